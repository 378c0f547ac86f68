/**
 * Reads back the HTTP/1.1 response that Node's own `ServerResponse` writes to its socket, and turns
 * it into calls: interim responses, the head, body bytes, the end with its trailers.
 *
 * A head that is exactly the one Node serialised for the response (`res._header`, which Node
 * validated field by field) is passed on as text with the facts of its framing fields
 * ({@link ResponseSink.prepared}); anything else written to the socket is split into fields for the
 * server to check ({@link ResponseSink.head}). Text Node writes stays text: a head with its whole
 * body in one string is one call ({@link ResponseSink.whole}).
 *
 * Letting Node serialise and reading its bytes (rather than intercepting `writeHead`/`write`) is
 * what makes every way of writing a response work the same: the `writeHead(status, headers)` fast
 * path whose headers never reach `getHeaders()`, several `Set-Cookie` lines, the `Content-Length`
 * Node computes for `end(data)`, raw writes to `res.socket`, `writeEarlyHints`, trailers.
 *
 * Pure: bytes in, calls out. Node's framing headers (`Connection`, `Keep-Alive`,
 * `Transfer-Encoding`) are removed — the server frames the response for its own connection — and
 * everything else is kept in order, case and number.
 */

import type { PreparedHead } from '@rocketserver/core';
import { ChunkedDecoder, type ChunkSink } from '@rocketserver/core/http';

/** Where the parts of the response go. */
export interface ResponseSink {
  /** A 1xx response (100 Continue, 102, 103 Early Hints). */
  informational(code: number, reason: string, headers: string[]): void;
  /** The final head. `headers` are flat `[name, value, …]` pairs; `close` when it said `Connection: close`. */
  head(code: number, reason: string, headers: string[], close: boolean): void;
  /**
   * The final head as Node serialised it, already validated: status line, the lines to send and
   * the facts of the framing fields. With {@link nodeHead}: a sink gives both or neither.
   */
  prepared?(head: PreparedHead): void;
  /**
   * The head Node serialised for this response (`res._header`) once Node is sending it, else null:
   * a head equal to it (or to the last such head read) is {@link prepared}.
   */
  nodeHead?(): string | null;
  /** Body bytes (a string is UTF-8 text); false asks the writer to wait for the sink to drain. */
  body(chunk: Buffer | string): boolean;
  /** The whole body in one piece, right after the head (a string is UTF-8 text): the response is complete. */
  whole?(chunk: Buffer | string): void;
  /** The response is complete; `trailers` after a chunked body. */
  end(trailers: string[] | null): void;
}

const enum State {
  Head,
  /** No body follows (HEAD, 204, 304). */
  NoBody,
  Length,
  Chunked,
  /** The body ends when the writer ends (HTTP/1.0, no length). */
  UntilEnd,
  Done,
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** The last chunk, without trailers, as Node writes it. */
const LAST_CHUNK = '0\r\n\r\n';

/** Where Node's chunk writes stand (see ResponseParser's `#nodeChunk`). */
const enum Step {
  /** Next: a chunk's size, in hex. */
  Size,
  /** Next: the CRLF after the size. */
  SizeEnd,
  /** Next: the chunk's data, in one or more writes. */
  Data,
  /** Next: the CRLF after the data. */
  DataEnd,
  /** Next: the LF of that CRLF, whose CR came alone. */
  DataEndLF,
}

/** The value of a chunk size as Node writes it (hex digits, at most 12), or -1. (parseInt is slow here.) */
function hexSize(text: string): number {
  if (text.length === 0 || text.length > 12) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x37;
    else return -1;
    value = value * 16 + digit;
  }
  return value;
}

function isCRLF(chunk: Buffer | string): boolean {
  return typeof chunk === 'string' ? chunk === '\r\n' : chunk.length === 2 && chunk[0] === 0x0d && chunk[1] === 0x0a;
}

function isUtf8(encoding: BufferEncoding | null | undefined): boolean {
  return encoding === undefined || encoding === null || encoding === 'utf8' || encoding === 'utf-8';
}

/** Header fields the parser looks at: Node's framing of its own connection, replaced by the server's, and the length. */
const enum Framing {
  None,
  ContentLength,
  TransferEncoding,
  Connection,
  /** `Keep-Alive`, `Proxy-Connection`, `TE`: dropped. */
  HopByHop,
  /** Kept on a 101 only. */
  Upgrade,
  /** Kept; the server adds its own when there is none. */
  Date,
  Server,
}

const FRAMING = new Map<string, Framing>([
  ['content-length', Framing.ContentLength],
  ['transfer-encoding', Framing.TransferEncoding],
  ['connection', Framing.Connection],
  ['keep-alive', Framing.HopByHop],
  ['proxy-connection', Framing.HopByHop],
  ['te', Framing.HopByHop],
  ['upgrade', Framing.Upgrade],
  ['date', Framing.Date],
  ['server', Framing.Server],
]);

/** Bit n set: some name in FRAMING has n letters. Most header names are passed over by their length alone. */
const FRAMING_LENGTHS = [...FRAMING.keys()].reduce((mask, name) => mask | (1 << name.length), 0);

/** What the header named `text[start..end)` is to the parser (names compared in place, without a copy). */
function framingHeader(text: string, start: number, end: number): Framing {
  const length = end - start;
  if (length > 31 || ((FRAMING_LENGTHS >>> length) & 1) === 0) return Framing.None;
  for (const [name, framing] of FRAMING_BY_LENGTH[length]!) if (equalsLower(text, start, name)) return framing;
  return Framing.None;
}

/** FRAMING's names grouped by length. */
const FRAMING_BY_LENGTH: [string, Framing][][] = Array.from({ length: 32 }, (_, n) => [...FRAMING].filter(([name]) => name.length === n));

/** `text.slice(start, start + lower.length).toLowerCase() === lower`, for a `lower` of letters and dashes. */
function equalsLower(text: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    // `| 0x20` folds ASCII letters; a dash only also matches CR, which cannot be in a name here.
    if ((text.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The code of an `HTTP/1.x NNN[ reason]` status line ending at `eol`; -1 if it is not one. */
function statusCode(text: string, eol: number): number {
  if (eol < 12 || !text.startsWith('HTTP/1.') || (text.charCodeAt(7) !== 0x31 && text.charCodeAt(7) !== 0x30)) return -1;
  if (text.charCodeAt(8) !== 0x20 || (eol > 12 && text.charCodeAt(12) !== 0x20)) return -1;
  let code = 0;
  for (let k = 9; k < 12; k++) {
    const digit = text.charCodeAt(k) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    code = code * 10 + digit;
  }
  return code;
}
const UNLIMITED = { maxBodySize: 0, maxChunkExtensions: Number.MAX_SAFE_INTEGER, maxTrailerSize: Number.MAX_SAFE_INTEGER, maxTrailers: 10_000 };

export class ResponseParseError extends Error {
  readonly code = 'ROCKET_ERR_BRIDGE_RESPONSE';
}

/**
 * @example
 * const parser = new ResponseParser(sink, req.method === 'HEAD');
 * parser.write(chunkFromNode);   // from the bridge socket's _write
 */
export class ResponseParser implements ChunkSink {
  readonly #sink: ResponseSink;
  readonly #isHead: boolean;
  #state = State.Head;
  #pending: Buffer | null = null;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  /** What the sink said of the last body chunk: false = wait for it to drain. */
  #room = true;
  /** Some of the body went to the sink already. */
  #bodyStarted = false;
  /**
   * A chunked body of Node's own head is followed write by write, as Node writes each chunk (size,
   * CRLF, data, CRLF, each a write of its own), with no decoding; the first write that is anything
   * else hands the body to the decoder for good.
   */
  #nodeChunks = false;
  #step = Step.Size;
  /** The size line of the chunk under way, and how many of its bytes are still to come. */
  #sizeText = '';
  #left = 0;

  constructor(sink: ResponseSink, isHeadRequest: boolean) {
    this.#sink = sink;
    this.#isHead = isHeadRequest;
  }

  /** Node's head for this response, when the sink takes heads as text (`prepared`); else null. */
  #nodeHead(): string | null {
    return this.#sink.prepared === undefined ? null : (this.#sink.nodeHead?.() ?? null);
  }

  /** True once the whole response went to the sink. */
  get done(): boolean {
    return this.#state === State.Done || this.#state === State.NoBody;
  }

  /** True once the final head went to the sink. */
  get started(): boolean {
    return this.#state !== State.Head;
  }

  /**
   * Take what Node wrote: bytes, or a string in `encoding` (UTF-8 when not given).
   * @returns false when the sink asked to wait before more is written.
   * @throws {ResponseParseError} bytes that are not an HTTP/1.1 response (an app wrote garbage to `res.socket`).
   */
  write(chunk: Buffer | string, encoding?: BufferEncoding | null): boolean {
    if (this.#nodeChunks) return this.#nodeChunk(chunk, encoding);
    if (typeof chunk === 'string') {
      const utf8 = encoding === undefined || encoding === null || encoding === 'utf8' || encoding === 'utf-8';
      if (this.#state === State.Head && this.#pending === null) {
        const head = this.#nodeHead();
        // Node's `_send` puts its head in front of a first body chunk that is text. The text there
        // is Node's head when it equals the one Node is sending, or the last one read (which Node
        // validated then). Compared through a slice: `startsWith` walks Node's concatenated
        // strings a character at a time.
        const text = head === null || !(utf8 || encoding === 'latin1') || chunk.length < head.length ? null : chunk.slice(0, head.length);
        const known = text === null ? null : knownNodeHead(text, head!);
        if (known !== null) {
          this.#room = true;
          this.#nodeHeadRead(known);
          if (chunk.length === known.text.length) return this.#room;
          const rest = chunk.slice(known.text.length);
          if (this.#nodeChunks) return this.#nodeChunk(rest, encoding);
          return utf8 ? this.#text(rest) : this.#bytes(Buffer.from(rest, 'latin1'));
        }
      } else if (utf8 && this.#state !== State.Head && this.#state !== State.Chunked) {
        this.#room = true;
        return this.#text(chunk);
      }
      return this.#bytes(Buffer.from(chunk, encoding ?? 'utf8'));
    }
    return this.#bytes(chunk);
  }

  /** Body text after the head; anything that is not a body goes the way of bytes. */
  #text(text: string): boolean {
    switch (this.#state) {
      case State.Length: {
        const length = Buffer.byteLength(text);
        if (length === this.#remaining && !this.#bodyStarted && this.#sink.whole !== undefined) {
          // The whole body, right after the head: the server sends both in one write.
          this.#state = State.Done;
          this.#remaining = 0;
          this.#sink.whole(text);
          return this.#room;
        }
        if (length > this.#remaining) return this.#bytes(Buffer.from(text));
        this.#body(text);
        this.#remaining -= length;
        if (this.#remaining === 0) this.#finish(null);
        return this.#room;
      }
      case State.UntilEnd:
        this.#body(text);
        return this.#room;
      case State.NoBody:
      case State.Done:
        return this.#room;
      default:
        return this.#bytes(Buffer.from(text));
    }
  }

  /** One write of Node's chunked framing: taken for what it is, or handed to the decoder. */
  #nodeChunk(chunk: Buffer | string, encoding?: BufferEncoding | null): boolean {
    this.#room = true;
    switch (this.#step) {
      case Step.Size:
        if (chunk === LAST_CHUNK) {
          // Node's end() of a chunked body without trailers.
          this.#nodeChunks = false;
          this.#finish(null);
          return true;
        }
        const size = typeof chunk === 'string' ? hexSize(chunk) : -1;
        if (size >= 0) {
          this.#sizeText = chunk as string;
          this.#left = size;
          // `0` is the last chunk, with trailers: the decoder reads those.
          if (this.#left > 0) {
            this.#step = Step.SizeEnd;
            return true;
          }
        }
        break;
      case Step.SizeEnd:
        if (isCRLF(chunk)) {
          this.#step = Step.Data;
          return true;
        }
        break;
      case Step.Data: {
        const data = typeof chunk === 'string' && !isUtf8(encoding) ? Buffer.from(chunk, encoding!) : chunk;
        const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        if (size > 0 && size <= this.#left) {
          this.#left -= size;
          if (this.#left === 0) this.#step = Step.DataEnd;
          this.#body(data);
          return this.#room;
        }
        break;
      }
      case Step.DataEnd:
        if (isCRLF(chunk)) {
          this.#step = Step.Size;
          return true;
        }
        break;
    }
    return this.#decodeFrom(typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk);
  }

  /** Something other than Node's usual chunk writes: the decoder goes on from where the chunks stand. */
  #decodeFrom(bytes: Buffer): boolean {
    this.#nodeChunks = false;
    switch (this.#step) {
      case Step.Size:
        return this.#bytes(bytes);
      case Step.SizeEnd:
        return this.#bytes(Buffer.concat([Buffer.from(this.#sizeText, 'latin1'), bytes]));
      case Step.Data:
        // The rest of the chunk under way, announced as a chunk of its own: the same body bytes.
        return this.#bytes(Buffer.concat([Buffer.from(`${this.#left.toString(16)}\r\n`, 'latin1'), bytes]));
      case Step.DataEnd:
        // The chunk's data is all out; what comes must start with its CRLF.
        if (bytes.length >= 2 && bytes[0] === 0x0d && bytes[1] === 0x0a) return bytes.length === 2 ? true : this.#bytes(bytes.subarray(2));
        if (bytes.length === 1 && bytes[0] === 0x0d) {
          // Half of the CRLF: the other half must follow.
          this.#nodeChunks = true;
          this.#step = Step.DataEndLF;
          return true;
        }
        throw new ResponseParseError('malformed chunked response body: chunk data not followed by CRLF');
      case Step.DataEndLF:
        if (bytes[0] !== 0x0a) throw new ResponseParseError('malformed chunked response body: chunk data not followed by CRLF');
        this.#step = Step.Size;
        return bytes.length === 1 ? true : this.#bytes(bytes.subarray(1));
    }
  }

  #bytes(chunk: Buffer): boolean {
    this.#room = true;
    let data = chunk;
    if (this.#pending !== null) {
      data = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    let i = 0;
    while (i < data.length) {
      switch (this.#state) {
        case State.Head: {
          const end = data.indexOf(CRLFCRLF, i);
          if (end === -1) {
            this.#pending = data.subarray(i);
            return this.#room;
          }
          const text = data.toString('latin1', i, end + 4);
          const head = this.#nodeHead();
          const known = head === null ? null : knownNodeHead(text, head);
          if (known !== null) this.#nodeHeadRead(known);
          else this.#readHead(text);
          i = end + 4;
          break;
        }
        case State.Length: {
          // Bytes past the Content-Length in the same write (node:http sends them; it does not
          // check) go on too: the server refuses to send them and closes the connection.
          const n = data.length - i;
          if (n > 0) this.#body(i === 0 ? data : data.subarray(i));
          this.#remaining -= Math.min(n, this.#remaining);
          i += n;
          if (this.#remaining === 0) this.#finish(null);
          break;
        }
        case State.Chunked: {
          // Made when the body is not Node's own chunk writes, or when trailers come.
          const decoder = (this.#decoder ??= new ChunkedDecoder(UNLIMITED));
          try {
            i += decoder.decode(data, i, data.length, this);
          } catch (error) {
            throw new ResponseParseError(`malformed chunked response body: ${(error as Error).message}`);
          }
          if (decoder.done) this.#finish(decoder.trailers);
          break;
        }
        case State.UntilEnd:
          this.#body(i === 0 ? data : data.subarray(i));
          return this.#room;
        case State.NoBody:
        case State.Done:
          // Body bytes after the end of a response (past its Content-Length, in a later write):
          // node:http would send them; they are dropped, as the server never sends more than
          // it announced.
          return this.#room;
      }
    }
    return this.#room;
  }

  /** The writer ended: a close-delimited body ends here; anything else must have ended already. */
  finish(): void {
    if (this.#state === State.UntilEnd) this.#finish(null);
    else if (this.#state !== State.Done && this.#state !== State.NoBody) {
      throw new ResponseParseError('the response ended before it was complete');
    }
  }

  onBodyData(chunk: Buffer): void {
    this.#body(chunk);
  }

  #body(chunk: Buffer | string): void {
    this.#bodyStarted = true;
    if (!this.#sink.body(chunk)) this.#room = false;
  }

  #finish(trailers: string[] | null): void {
    this.#state = State.Done;
    this.#sink.end(trailers);
  }

  /**
   * Read a head `text` that is not Node's own (raw writes to the socket): split into fields for
   * the server to check.
   */
  #readHead(text: string): void {
    const end = text.length - 4;
    let eol = text.indexOf('\r\n');
    if (eol === -1 || eol > end) eol = end;
    const code = statusCode(text, eol);
    if (code === -1) throw new ResponseParseError(`not a status line: ${JSON.stringify(text.slice(0, eol))}`);
    const headers: string[] = [];
    const facts = scanFields(text, eol + 2, end, (start, colon, next, framing, value) => {
      if (!dropped(framing, code)) headers.push(text.slice(start, colon), value ?? text.slice(colon + 1, next).trim());
    });
    if (code < 200) {
      this.#sink.informational(code, eol > 12 ? text.slice(13, eol) : '', headers);
      return;
    }
    this.#sink.head(code, eol > 12 ? text.slice(13, eol) : '', headers, facts.close);
    this.#bodyFollows(code, facts.chunked, facts.length, false);
  }

  /** Node's own head: it goes on as text, already validated. */
  #nodeHeadRead(known: NodeHead): void {
    this.#sink.prepared!(known.prepared);
    this.#bodyFollows(known.prepared.code, known.chunked, known.prepared.contentLength, true);
  }

  /** The final head went to the sink: what follows it. */
  #bodyFollows(code: number, chunked: boolean, length: number, trusted: boolean): void {
    if (this.#isHead || code < 200 || code === 204 || code === 304) {
      this.#state = State.NoBody;
      this.#finish(null);
      this.#state = State.NoBody;
    } else if (chunked) {
      this.#state = State.Chunked;
      this.#nodeChunks = trusted;
    } else if (length >= 0) {
      this.#state = State.Length;
      this.#remaining = length;
      if (length === 0) this.#finish(null);
    } else {
      this.#state = State.UntilEnd;
    }
  }
}

/** What the framing fields of a head said. */
interface FieldFacts {
  /** The Content-Length, or -1. */
  length: number;
  chunked: boolean;
  close: boolean;
  hasDate: boolean;
  hasServer: boolean;
}

/** Node's head read once: what goes to the sink, and how the body is framed. */
interface NodeHead {
  readonly text: string;
  readonly prepared: PreparedHead;
  readonly chunked: boolean;
}

/**
 * An app sends the same head response after response, but for its Date (a new one each second):
 * the last one read is kept.
 */
let lastNodeHead: NodeHead | null = null;

/**
 * What Node's head says, when `text` is one: the last one read (which Node validated then,
 * whoever writes it now), or `head`, the one Node is sending, read now; else null.
 */
function knownNodeHead(text: string, head: string): NodeHead | null {
  const last = lastNodeHead;
  if (last !== null && last.text === text) return last;
  return text === head ? (lastNodeHead = readNodeHead(text)) : null;
}

/** True for a field the server replaces with its own (or, `Upgrade`, sends on a 101 only). */
function dropped(framing: Framing, code: number): boolean {
  switch (framing) {
    case Framing.TransferEncoding:
    case Framing.Connection:
    case Framing.HopByHop:
      return true;
    case Framing.Upgrade:
      return code !== 101;
    default:
      return false;
  }
}

/**
 * Scan the field lines of `text[pos..end)`: the framing facts, and each line to `onField` (its
 * start, colon and end, what it is to the parser, and the trimmed value when it was read).
 */
function scanFields(
  text: string,
  pos: number,
  end: number,
  onField: (start: number, colon: number, next: number, framing: Framing, value: string | null) => void,
): FieldFacts {
  // Node writes `Name: value\r\n` lines; scanned with indexOf, since this runs once per response.
  const facts: FieldFacts = { length: -1, chunked: false, close: false, hasDate: false, hasServer: false };
  while (pos < end) {
    let next = text.indexOf('\r\n', pos);
    if (next === -1 || next > end) next = end;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > next) throw new ResponseParseError(`malformed header line ${JSON.stringify(text.slice(pos, next))}`);
    const framing = framingHeader(text, pos, colon);
    let value: string | null = null;
    switch (framing) {
      case Framing.ContentLength:
        value = text.slice(colon + 1, next).trim();
        facts.length = Number(value);
        break;
      case Framing.TransferEncoding:
        facts.chunked = /(?:^|,)\s*chunked\s*$/i.test(text.slice(colon + 1, next));
        break;
      case Framing.Connection:
        // Node's own `Connection: keep-alive` is the usual one; only another value is read.
        if (next - colon !== 12 || !text.startsWith(' keep-alive', colon + 1)) {
          facts.close ||= /(?:^|,)\s*close\s*(?:,|$)/i.test(text.slice(colon + 1, next));
        }
        break;
      case Framing.Date:
        facts.hasDate = true;
        break;
      case Framing.Server:
        facts.hasServer = true;
        break;
      default:
        break;
    }
    onField(pos, colon, next, framing, value);
    pos = next + 2;
  }
  return facts;
}

/** Read Node's own head: its lines go on as text, the ones the server replaces cut out. */
function readNodeHead(text: string): NodeHead {
  const end = text.length - 4;
  let eol = text.indexOf('\r\n');
  if (eol === -1 || eol > end) eol = end;
  const code = statusCode(text, eol);
  if (code === -1) throw new ResponseParseError(`not a status line: ${JSON.stringify(text.slice(0, eol))}`);
  let lines = '';
  /** Start of the lines not yet copied into `lines`. */
  let kept = eol + 2;
  const facts = scanFields(text, eol + 2, end, (start, _colon, next, framing) => {
    // RFC 9110 §8.6: a 204 carries no Content-Length; a 205's is the server's (`Content-Length: 0`).
    const drop = dropped(framing, code) || (framing === Framing.ContentLength && (code === 204 || code === 205));
    if (drop) {
      if (start > kept) lines += text.slice(kept, start);
      kept = next + 2;
    }
  });
  if (end + 2 > kept) lines += text.slice(kept, end + 2);
  const prepared: PreparedHead = {
    code,
    statusLine: text.slice(0, eol + 2),
    lines,
    contentLength: facts.length,
    close: facts.close,
    hasDate: facts.hasDate,
    hasServer: facts.hasServer,
  };
  return { text, prepared, chunked: facts.chunked };
}
