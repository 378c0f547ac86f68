/**
 * The response side of one request: `start_response`, `write`, and the framing of what goes out.
 *
 * The life of a write
 * -------------------
 * 1. `start_response(status, headers)` validates the status and every header now, so a bad value
 *    throws inside the application where it was made, and serialises the application's header
 *    lines once. Nothing is sent yet.
 * 2. The first non-empty body chunk (or the end of the body) *commits* the head: the framing is
 *    chosen once, here, from what is known —
 *      - no content at all for HEAD, 204, 205 and 304 (HEAD still gets the headers GET would);
 *      - the application's Content-Length, if it gave one (the body is then held to it);
 *      - else a known total (a list body) becomes Content-Length;
 *      - else HTTP/1.1 gets chunked, HTTP/1.0 a body delimited by closing the connection;
 *    then `Date`, `Server` and `Connection` are added unless the application set them.
 * 3. Body chunks go out in the chosen framing. `write()` returns false when the socket's buffer is
 *    full; callers wait for {@link Response.drained}.
 * 4. `end()` writes the last chunk of a chunked body, checks the length promise, and tells the
 *    exchange whether the connection can carry another request.
 *
 * A head and its first chunk go out in one write whenever they can (one string when the body is
 * ASCII text), and the connection corks the socket around pipelined batches.
 */

import type { Socket } from 'node:net';
import { RocketError } from '../errors.js';
import { isFieldValue } from '../http/chars.js';
import { isBodilessStatus, parseStatus, type Status } from '../http/response-head.js';
import { checkResponseFields, fieldLines, type ResponseFieldFacts, type ResponseHeaders } from '../http/response-fields.js';
import { chooseResponseFraming, framingFields, persistenceFields, ResponseFraming } from '../http/response-framing.js';

export type { ResponseHeaders };

/** A body chunk: bytes, or text sent as UTF-8. */
export type BodyChunk = Uint8Array | string;

/** PEP 3333's `start_response`; returns the (discouraged) `write` callable. */
export type StartResponse = (status: string, headers: ResponseHeaders, excInfo?: unknown) => WriteCallable;

/** PEP 3333's `write(data)`; returns false when the caller should wait before writing more. */
export type WriteCallable = (data: BodyChunk) => boolean;

/** What a response needs from the request and connection it belongs to. */
export interface ResponseOwner {
  readonly socket: Socket;
  readonly isHead: boolean;
  /** 10 or 11. */
  readonly version: number;
  /** The value of the `Keep-Alive` hint (`timeout=5`, `timeout=5, max=100`); '' sends none. */
  readonly keepAliveHint: string;
  /** `Server` header value, or '' for none. */
  readonly serverSoftware: string;
  /** What the status line starts with: `HTTP/1.1`, or `HTTP/1.0` for a server that speaks only that. */
  readonly protocol: string;
  /** Send only the Connection header fields the protocol needs (the connectionHeaders option). */
  readonly minimalConnectionHeaders: boolean;
  /**
   * Can the connection carry another request after this response, as far as the request, the
   * server and the request's body go? (The response adds its own framing and `Connection: close`.)
   */
  canKeepAlive(): boolean;
  /** The response is complete on the wire. */
  responseEnded(keepAlive: boolean): void;
  /** Something the application did is logged as a warning (length mismatch, body on a 204). */
  warn(message: string): void;
  /** Write to the connection, in order with everything else it sends (text is latin1). */
  send(data: string | Buffer): void;
  /** The application gave up on the response (rocket.response's abort): cut the connection. */
  responseAborted(reason: unknown): void;
  /** The application failed while writing by calls (rocket.response's fail): as if it had thrown. */
  responseFailed(error: unknown): void;
  /** A `100 Continue` went out through {@link Response.informational}. */
  continueSent(): void;
  /** The response waits for the client to read (the socket buffer is full). */
  writeBlocked(): void;
  /** It no longer waits. */
  writeResumed(): void;
}

/** A final response head, validated and serialised by whoever made it: see {@link Response.startPrepared}. */
export interface PreparedHead {
  readonly code: number;
  /** `HTTP/1.1 <code> <reason>\r\n` (the protocol is replaced by the server's when it differs). */
  readonly statusLine: string;
  /** `Name: value\r\n` lines, without `Connection`, `Keep-Alive` and `Transfer-Encoding`. */
  readonly lines: string;
  /** The `Content-Length` the lines carry (or, for a 204 or 205, carried), else -1. */
  readonly contentLength: number;
  /** It said `Connection: close`. */
  readonly close: boolean;
  readonly hasDate: boolean;
  readonly hasServer: boolean;
}

/**
 * `environ['rocket.response']`: the response written by calls instead of a returned body (what
 * the Node bridge does). See {@link Response} for each call.
 */
export interface ResponseChannel {
  startWith(code: number, reason: string, headers: readonly string[]): void;
  startPrepared(head: PreparedHead): void;
  informational(code: number, reason: string, headers?: readonly string[]): void;
  write(chunk: BodyChunk): boolean;
  /** The whole body at once, ending the response (its length becomes Content-Length when none was given). */
  sendAll(chunks: readonly BodyChunk[]): void;
  flush(): void;
  end(trailers?: readonly string[]): void;
  abort(reason?: unknown): void;
  /** The app failed: a 500 (and a logged error) when nothing was sent yet, else the connection is cut. */
  fail(error: unknown): void;
  drained(): Promise<void>;
  onClose(listener: (reason: unknown) => void): void;
  /** True once the response is complete, or was given up. */
  readonly ended: boolean;
  /** Bytes of head and body handed to the connection so far. */
  readonly bytesWritten: number;
}

const enum State {
  /** `start_response` not called yet. */
  New,
  /** Status and headers known, nothing sent. */
  Started,
  /** Head sent; body going out. */
  Committed,
  Ended,
  /** Given up: the socket is gone or was destroyed. */
  Aborted,
}

const CRLF = '\r\n';
/**
 * Bytes queued on the socket before `write()` asks the caller to wait. Above the socket's own
 * 16 KiB mark: waiting for a drain costs a round trip with the client, so a streamed body keeps a
 * little more in flight, and a slow reader is still held to a bounded amount per connection.
 */
export const OUTPUT_HIGH_WATER = 64 * 1024;
const LAST_CHUNK = '0\r\n\r\n';

let cachedDate = '';
let cachedDateUntil = 0;

/** The `Date` header value (RFC 9110 §5.6.7), recomputed at most once a second. */
export function httpDate(): string {
  const now = Date.now();
  if (now >= cachedDateUntil) {
    cachedDate = new Date(now).toUTCString();
    cachedDateUntil = now - (now % 1000) + 1000;
  }
  return cachedDate;
}

/**
 * @example
 * const write = response.start('200 OK', [['Content-Type', 'text/plain']]);
 * response.sendAll(['hello']);
 */
export class Response implements ResponseChannel {
  readonly #owner: ResponseOwner;
  #state = State.New;
  #status: Status | null = null;
  /** What the application's fields say, and their lines; null until the response is started. */
  #fields: ResponseFieldFacts | null = null;
  #framing = ResponseFraming.None;
  #expected = 0;
  #sent = 0;
  #keepAlive = false;
  #closeListeners: ((reason: unknown) => void)[] | null = null;
  /** Bytes of head and body handed to the socket, for logs. */
  bytesWritten = 0;
  /** The `start_response` callable given to the application. */
  readonly start: StartResponse;

  constructor(owner: ResponseOwner) {
    this.#owner = owner;
    this.start = (status, headers, excInfo) => this.#startResponse(status, headers, excInfo);
  }

  /** The status code, once `start_response` was called; 0 before. */
  get statusCode(): number {
    return this.#status?.code ?? 0;
  }

  /** Body bytes sent so far (without chunk framing; never more than a Content-Length allows). */
  get bytesSent(): number {
    return this.#framing === ResponseFraming.Length ? Math.min(this.#sent, this.#expected) : this.#sent;
  }

  get started(): boolean {
    return this.#state !== State.New;
  }

  /** True once the head went out: from then on an error can only abort the connection. */
  get committed(): boolean {
    return this.#state >= State.Committed;
  }

  get ended(): boolean {
    return this.#state === State.Ended;
  }

  get aborted(): boolean {
    return this.#state === State.Aborted;
  }

  #startResponse(status: string, headers: ResponseHeaders, excInfo?: unknown): WriteCallable {
    if (this.#state === State.Aborted) return this.#writeCallable();
    if (this.#state !== State.New) {
      if (excInfo === undefined || excInfo === null) {
        throw new RocketError('ROCKET_ERR_START_RESPONSE', 'start_response() called a second time without exc_info');
      }
      // PEP 3333: with exc_info after the head was sent, re-raise; before, replace status and headers.
      if (this.#state >= State.Committed) throw Array.isArray(excInfo) ? excInfo[1] : excInfo;
    }
    const parsed = parseStatus(status);
    if (parsed === null) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `invalid status ${JSON.stringify(status)}`);
    }
    if (parsed.code < 200) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `status ${parsed.code} cannot be a final response`);
    }
    this.#fields = checkResponseFields(parsed.code, headers, false, this.#owner.version === 11);
    this.#status = parsed;
    this.#state = State.Started;
    return this.#writeCallable();
  }

  #writeCallable(): WriteCallable {
    return (data) => this.write(data);
  }

  /**
   * Choose the framing and build the head. `total` is the body length when known, else -1.
   */
  #commit(total: number): string {
    const owner = this.#owner;
    const fields = this.#fields!;
    const code = this.#status!.code;
    const http11 = owner.version === 11;
    const statusLine = this.#status!.line;
    const framing = chooseResponseFraming(code, fields, total, http11);
    if (framing === ResponseFraming.Length) this.#expected = fields.contentLength === -1 ? total : fields.contentLength;
    // The answer to HEAD has the headers a GET would get; no content follows, so nothing forces a close.
    this.#framing = owner.isHead ? ResponseFraming.None : framing;
    const keepAlive = !fields.close && owner.canKeepAlive() && this.#framing !== ResponseFraming.Close;
    this.#keepAlive = keepAlive;
    let head = (owner.protocol === 'HTTP/1.1' ? statusLine : owner.protocol + statusLine.slice(8)) + fields.lines + framingFields(framing, code, fields, total, owner.isHead);
    if (!fields.hasDate) head += `Date: ${httpDate()}\r\n`;
    if (!fields.hasServer && owner.serverSoftware !== '') head += `Server: ${owner.serverSoftware}\r\n`;
    head += persistenceFields(keepAlive, http11, owner.minimalConnectionHeaders, owner.keepAliveHint);
    this.#state = State.Committed;
    return head;
  }

  /**
   * Send a whole body whose chunks are all known now (a list returned by the application): its
   * total length becomes Content-Length, and the response ends.
   */
  sendAll(chunks: readonly BodyChunk[]): void {
    if (this.#state === State.Aborted) return;
    this.#requireStarted();
    if (this.#state === State.Committed) {
      for (let i = 0; i < chunks.length; i++) this.write(chunks[i]!);
      this.end();
      return;
    }
    // Fast path: one text chunk. When it is ASCII, head and body go out as one latin1 string.
    if (chunks.length === 1 && typeof chunks[0] === 'string') {
      const text = chunks[0];
      const length = Buffer.byteLength(text);
      this.#checkWholeLength(length);
      const head = this.#commit(length);
      if (this.#framing === ResponseFraming.Length && this.#expected === length && length === text.length) {
        this.#sent = length;
        this.#out(head + text);
      } else {
        this.#out2(head, Buffer.from(text));
      }
      this.#finish();
      return;
    }
    let total = 0;
    const buffers: Buffer[] = new Array(chunks.length);
    for (let i = 0; i < chunks.length; i++) {
      const b = toBuffer(chunks[i]!);
      buffers[i] = b;
      total += b.length;
    }
    this.#checkWholeLength(total);
    const head = this.#commit(total);
    const socket = this.#owner.socket;
    socket.cork();
    this.#out(head);
    for (const b of buffers) if (b.length > 0) this.#writeBody(b);
    this.#finish();
    socket.uncork();
  }

  /**
   * A whole body longer than the Content-Length the app declared is an error of the app, found
   * before anything was sent: it becomes a 500 instead of a truncated response.
   */
  #checkWholeLength(total: number): void {
    const declared = this.#fields!.contentLength;
    if (declared !== -1 && total > declared && !this.#owner.isHead && !isBodilessStatus(this.#status!.code)) {
      throw new RocketError('ROCKET_ERR_RESPONSE_LENGTH', 'The requested resource returned more bytes than the declared Content-Length.');
    }
  }

  /**
   * Send one body chunk (committing the head first if needed). Empty chunks are skipped.
   * @returns false when the socket buffer is full: wait for {@link drained} before writing more.
   */
  write(chunk: BodyChunk): boolean {
    if (this.#state === State.Aborted) return true;
    if (this.#state === State.Ended) throw new RocketError('ROCKET_ERR_RESPONSE', 'write after the response ended');
    this.#requireStarted();
    const data = toBuffer(chunk);
    if (data.length === 0) return true;
    if (this.#state === State.Started) {
      const head = this.#commit(-1);
      const socket = this.#owner.socket;
      socket.cork();
      this.#out(head);
      this.#writeBody(data);
      socket.uncork();
    } else {
      this.#writeBody(data);
    }
    return this.#owner.socket.writableLength < OUTPUT_HIGH_WATER;
  }

  /** Hold writes until `uncork()`, so a batch of chunks leaves in one write. */
  cork(): void {
    this.#owner.socket.cork();
  }

  uncork(): void {
    this.#owner.socket.uncork();
  }

  /**
   * End the body: commit an empty one if nothing was sent, write the last chunk, check the length.
   * `trailers` (a flat `[name, value, …]` list) follow a chunked body; with any other framing
   * there is nowhere to put them and they are dropped.
   */
  end(trailers?: readonly string[]): void {
    if (this.#state === State.Aborted || this.#state === State.Ended) return;
    this.#requireStarted();
    const trailerLines = trailers === undefined || trailers.length === 0 ? '' : fieldLines(trailers, 'trailer');
    // An empty body has length 0 — except for HEAD, whose GET body length nobody told us.
    if (this.#state === State.Started) this.#out(this.#commit(trailerLines === '' && !this.#owner.isHead ? 0 : -1));
    this.#finish(trailerLines);
  }

  /** Resolves when the socket can take more (or is gone). */
  drained(): Promise<void> {
    const socket = this.#owner.socket;
    if (socket.writableLength < OUTPUT_HIGH_WATER || !socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
    const owner = this.#owner;
    owner.writeBlocked();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        owner.writeResumed();
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /**
   * The exchange ends underneath the response (client gone, timeout, server error): nothing more
   * is written, and whoever asked with {@link onClose} is told.
   */
  cancel(reason: unknown): void {
    if (this.#state === State.Aborted) return;
    const wasEnded = this.#state === State.Ended;
    this.#state = State.Aborted;
    if (!wasEnded) this.notifyClose(reason);
    this.#closeListeners = null;
  }

  /**
   * Tell the {@link onClose} listeners, once, that the client is gone — also when it only shut
   * down its sending side, which is how a closed tab usually first shows. The response may still
   * be written; a client that is really gone will not read it.
   */
  notifyClose(reason: unknown): void {
    const listeners = this.#closeListeners;
    this.#closeListeners = null;
    if (listeners === null) return;
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        this.#owner.warn(`an onClose listener threw: ${String(error)}`);
      }
    }
  }

  // ---- rocket.response: writing a response by calls instead of a returned body ----

  /**
   * Start the response from a numeric status, a reason phrase ('' for the registered one) and
   * header fields as a flat `[name, value, name, value, …]` list — the shape a bridge from another
   * server API already has. Validated like `start_response`.
   */
  startWith(code: number, reason: string, headers: readonly string[]): void {
    if (this.#state === State.Aborted) return;
    if (this.#state !== State.New) throw new RocketError('ROCKET_ERR_START_RESPONSE', 'the response was already started');
    // 200–999: three digits (RFC 9112 §4), and not a 1xx, which a client reads as interim and
    // would wait past for a final response that never comes.
    if (!Number.isInteger(code) || code < 200 || code > 999) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `status ${code} cannot be a final response`);
    }
    if (typeof reason !== 'string' || !isFieldValue(reason)) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `invalid reason phrase ${JSON.stringify(reason)}`);
    }
    this.#fields = checkResponseFields(code, headers, true, this.#owner.version === 11);
    this.#status = reason === '' ? parseStatus(String(code))! : { code, line: `HTTP/1.1 ${code} ${reason}\r\n` };
    this.#state = State.Started;
  }

  /**
   * Start the response from a head that its producer has already validated and serialised — the
   * Node bridge passes on what `http.ServerResponse` built, whose names and values Node checked —
   * so nothing is parsed, checked or joined again. The facts of the framing fields come with it,
   * and its lines leave out what the server replaces (`Connection`, `Keep-Alive`,
   * `Transfer-Encoding`, and `Content-Length` on a 204 or 205).
   */
  startPrepared(head: PreparedHead): void {
    if (this.#state === State.Aborted) return;
    if (this.#state !== State.New) throw new RocketError('ROCKET_ERR_START_RESPONSE', 'the response was already started');
    const code = head.code;
    if (!Number.isInteger(code) || code < 200 || code > 999) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `status ${code} cannot be a final response`);
    }
    // Its facts are the ones start_response would have found; it carries no transfer coding.
    this.#fields = head;
    this.#status = { code, line: head.statusLine };
    this.#state = State.Started;
  }

  /**
   * Send an interim response (100 Continue, 102 Processing, 103 Early Hints) before the final one.
   * HTTP/1.0 clients do not get it (RFC 9110 §15.2); once the final head went out, it is too late
   * and nothing is sent.
   */
  informational(code: number, reason: string, headers: readonly string[] = []): void {
    if (this.#state >= State.Committed || this.#owner.version !== 11) return;
    if (!Number.isInteger(code) || code < 100 || code > 199 || code === 101) {
      throw new RocketError('ROCKET_ERR_RESPONSE', `${code} is not an interim status (101 is for upgrades)`);
    }
    if (typeof reason !== 'string' || !isFieldValue(reason)) {
      throw new RocketError('ROCKET_ERR_RESPONSE', `invalid reason phrase ${JSON.stringify(reason)}`);
    }
    const status = reason === '' ? parseStatus(String(code))!.line : `HTTP/1.1 ${code} ${reason}\r\n`;
    this.#out((this.#owner.protocol === 'HTTP/1.1' ? status : this.#owner.protocol + status.slice(8)) + fieldLines(headers, 'interim response header') + '\r\n');
    if (code === 100) this.#owner.continueSent();
  }

  /** Send the head now, before any body, as a stream that is yet to come (`flushHeaders`, SSE). */
  flush(): void {
    if (this.#state === State.Aborted) return;
    this.#requireStarted();
    if (this.#state === State.Started) this.#out(this.#commit(-1));
  }

  /**
   * Give up on the response: the connection is cut, so the client sees it end early rather than
   * a clean end (an error after the head was sent).
   */
  abort(reason?: unknown): void {
    if (this.#state === State.Aborted || this.#state === State.Ended) return;
    this.#owner.responseAborted(reason);
  }

  /**
   * The application failed: answered as a gateway app that throws — a 500 and a logged error
   * while nothing was sent, the connection cut after that.
   */
  fail(error: unknown): void {
    if (this.#state === State.Aborted || this.#state === State.Ended) return;
    this.#owner.responseFailed(error);
  }

  /**
   * Be told once if the connection goes away before the response is complete (the client closed
   * it, a deadline passed, the server stopped).
   */
  onClose(listener: (reason: unknown) => void): void {
    if (this.#state === State.Aborted) {
      listener(new Error('the connection is closed'));
      return;
    }
    (this.#closeListeners ??= []).push(listener);
  }

  #requireStarted(): void {
    if (this.#state === State.New) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', 'the application sent body data before calling start_response()');
    }
  }

  #writeBody(data: Buffer): void {
    switch (this.#framing) {
      case ResponseFraming.None:
        if (!this.#owner.isHead) this.#owner.warn(`body data on a ${this.#status!.code} response was dropped`);
        return;
      case ResponseFraming.Length: {
        const room = this.#expected - this.#sent;
        if (data.length > room) {
          this.#owner.warn(`response body longer than its Content-Length (${this.#expected}); the connection will close`);
          this.#keepAlive = false;
          if (room > 0) this.#out(data.subarray(0, room));
          this.#sent = this.#expected + 1;
          return;
        }
        this.#sent += data.length;
        this.#out(data);
        return;
      }
      case ResponseFraming.Chunked: {
        // Size line, data and CRLF leave together: three small writes would be three segments.
        this.#sent += data.length;
        const socket = this.#owner.socket;
        socket.cork();
        this.#out(data.length.toString(16) + CRLF);
        this.#out(data);
        this.#out(CRLF);
        socket.uncork();
        return;
      }
      case ResponseFraming.Close:
        this.#sent += data.length;
        this.#out(data);
        return;
    }
  }

  #finish(trailerLines = ''): void {
    if (this.#framing === ResponseFraming.Chunked) this.#out(trailerLines === '' ? LAST_CHUNK : `0\r\n${trailerLines}\r\n`);
    else if (this.#framing === ResponseFraming.Length && this.#sent !== this.#expected) {
      if (this.#sent < this.#expected) {
        this.#owner.warn(`response body shorter than its Content-Length (${this.#sent} of ${this.#expected} bytes); the connection will close`);
      }
      this.#keepAlive = false;
    }
    this.#state = State.Ended;
    this.#owner.responseEnded(this.#keepAlive);
  }

  #out(data: string | Buffer): void {
    this.bytesWritten += data.length;
    this.#owner.send(data);
  }

  /** The head, then `body` in the chosen framing, in one corked write. */
  #out2(head: string, body: Buffer): void {
    const socket = this.#owner.socket;
    socket.cork();
    this.#out(head);
    if (body.length > 0) this.#writeBody(body);
    socket.uncork();
  }
}

/** A body chunk as bytes: strings are UTF-8; any Uint8Array is viewed as a Buffer without a copy. */
export function toBuffer(chunk: BodyChunk): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new RocketError('ROCKET_ERR_RESPONSE', `body chunks must be strings or Uint8Arrays, not ${describe(chunk)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}
