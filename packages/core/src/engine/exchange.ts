/**
 * One request and its response: created when a head has been parsed, gone when the response is
 * complete and the body read or drained. Everything request-scoped lives here, never on the
 * connection, so a failed request cannot leak its status or size into the next one's log line.
 */

import { BodyInput, EMPTY_INPUT, type BodySource } from '../gateway/body.js';
import { buildEnviron, type Environ } from '../gateway/environ.js';
import { applyForwarded } from '../gateway/forwarded.js';
import { ChunkedDecoder, type ChunkSink } from '../http/chunked.js';
import type { BodyFraming } from '../http/framing.js';
import type { RequestHead } from '../http/request-head.js';
import { runGateway, type GatewayExchange } from '../gateway/run-app.js';
import { Response, type ResponseOwner } from '../gateway/response.js';
import type { Socket } from 'node:net';
import { describeError, RocketError } from '../errors.js';
import type { ConnectionInfo, ServerInfo } from '../gateway/environ.js';
import type { GatewayApp } from '../gateway/run-app.js';
import type { ChunkedLimits } from '../http/chunked.js';
import type { AddressList } from '../http/ip.js';
import type { Logger } from '../observability/logging.js';
import type { ResolvedOptions } from '../options.js';
import { CONNECTION_UPGRADE, connectionOptions } from '../http/framing.js';

/** What an exchange needs from the server it runs in. */
export interface ExchangeServer {
  readonly app: GatewayApp;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly serverInfo: ServerInfo;
  readonly chunkedLimits: ChunkedLimits;
  /** The value of the `Keep-Alive` hint; '' sends none. */
  readonly keepAliveHint: string;
  /** Peers whose forwarded headers gateway apps believe; null: nobody's. */
  readonly forwardedAllowIps: AddressList | null;
  /** False when the app reads the header fields from `rocket.raw_headers` only (`rawHeadersOnly`). */
  readonly fieldKeys: boolean;
}

/**
 * What an exchange needs from the connection it runs on. The connection is the one
 * implementation; naming the members here keeps the exchange from reaching into the rest of it.
 */
export interface ExchangeHost {
  readonly socket: Socket;
  readonly info: ConnectionInfo;
  readonly server: ExchangeServer;
  /** 11 or 10: the most this server speaks on the connection (`protocol`). */
  readonly protocolVersion: number;
  send(data: string | Buffer): void;
  bodyWanted(): void;
  bodyConsumed(): void;
  writeBlocked(): void;
  writeResumed(): void;
  allowsKeepAlive(head: RequestHead): boolean;
  detach(exchange: Exchange): { socket: Socket; head: Buffer };
  responseAborted(exchange: Exchange, reason: unknown): void;
  exchangeDone(exchange: Exchange, keepAlive: boolean): void;
  appFailed(exchange: Exchange, error: unknown): void;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CONTINUE_10 = 'HTTP/1.0 100 Continue\r\n\r\n';

export class Exchange implements GatewayExchange, ResponseOwner, BodySource, ChunkSink {
  readonly conn: ExchangeHost;
  readonly head: RequestHead;
  readonly environ: Environ;
  readonly response: Response;
  readonly input: BodyInput | null;
  readonly isHead: boolean;
  readonly version: number;
  /** Bytes of body still to come, for a Content-Length body. */
  #remaining: number;
  readonly #decoder: ChunkedDecoder | null;
  #bodyDone: boolean;
  /** Body bytes are discarded instead of buffered: the response is done, or the request failed. */
  #discarding = false;
  #drained = 0;
  #expectContinue: boolean;
  /** The app finished, failed, or the exchange was killed; later news from the app is ignored. */
  #finished = false;
  #keepAlive = false;
  #responseDone = false;
  /** The app writes through `rocket.response` and returned it instead of a body. */
  #pushMode = false;
  /** When the head was parsed (performance.now()), for the access log. */
  readonly startTime: number;
  /** The same moment as a date (ms since the epoch), for the access log's time. */
  readonly receivedAt = Date.now();
  /** Counted once in the metrics and the access log. */
  accounted = false;

  constructor(conn: ExchangeHost, head: RequestHead, framing: BodyFraming, expectContinue: boolean) {
    this.conn = conn;
    this.head = head;
    this.isHead = head.method === 'HEAD';
    // What this response may use: HTTP/1.1 features only when both sides speak HTTP/1.1.
    this.version = Math.min(head.version, conn.protocolVersion);
    this.startTime = performance.now();
    if (framing.kind === 'none') {
      this.input = null;
      this.#remaining = 0;
      this.#decoder = null;
      this.#bodyDone = true;
      this.#expectContinue = false;
    } else {
      this.input = new BodyInput(this);
      this.#remaining = framing.kind === 'length' ? framing.length : -1;
      this.#decoder = framing.kind === 'chunked' ? new ChunkedDecoder(conn.server.chunkedLimits) : null;
      this.#bodyDone = false;
      this.#expectContinue = expectContinue;
    }
    this.response = new Response(this);
    const trusted = conn.server.forwardedAllowIps;
    this.environ = buildEnviron(head, conn.info, conn.server.serverInfo, this.input ?? EMPTY_INPUT, this.response, conn.server.fieldKeys);
    if (trusted !== null) applyForwarded(this.environ, trusted);
    // An upgrade can only be handed over when nothing of a body stands between the head and the
    // new protocol's bytes.
    if (head.upgrade !== null && framing.kind === 'none' && (connectionOptions(head.connection) & CONNECTION_UPGRADE) !== 0) {
      this.environ['rocket.upgrade'] = () => this.#upgrade();
    }
  }

  /** Hand the connection over to the application (`rocket.upgrade`): the socket, and the bytes after the head. */
  #upgrade(): { socket: Socket; head: Buffer } {
    if (this.#finished || this.response.started) {
      throw new RocketError('ROCKET_ERR_STATE', 'the connection can only be taken over before a response was started');
    }
    this.#finished = true;
    this.response.cancel(null);
    return this.conn.detach(this);
  }

  run(): void {
    runGateway(this.conn.server.app, this);
  }

  // ---- body bytes, from the connection ----

  get bodyDone(): boolean {
    return this.#bodyDone;
  }

  /** True while the application waits for body bytes, or they are being drained. */
  get awaitingBody(): boolean {
    return !this.#bodyDone && (this.#discarding || (this.input !== null && this.input.waiting));
  }

  /** Body bytes buffered and not read by the application. */
  get bufferedBody(): number {
    return this.input?.buffered ?? 0;
  }

  /**
   * Take body bytes from `buf[start..end)`.
   * @returns bytes consumed; the rest belongs to the next request.
   * @throws {HttpError} a malformed chunked body, or one larger than allowed.
   */
  feed(buf: Buffer, start: number, end: number): number {
    let used: number;
    if (this.#decoder !== null) {
      used = this.#decoder.decode(buf, start, end, this);
      if (this.#decoder.done) this.#endBody();
    } else {
      used = Math.min(this.#remaining, end - start);
      this.onBodyData(buf.subarray(start, start + used));
      this.#remaining -= used;
      if (this.#remaining === 0) this.#endBody();
    }
    return used;
  }

  onBodyData(chunk: Buffer): void {
    if (this.#discarding) {
      this.#drained += chunk.length;
      return;
    }
    this.input!.push(chunk);
  }

  #endBody(): void {
    this.#bodyDone = true;
    const trailers = this.#decoder?.trailers ?? null;
    if (trailers !== null) this.environ['rocket.trailers'] = trailers;
    this.input?.end();
  }

  /** True once body bytes are thrown away instead of kept for the application. */
  get discarding(): boolean {
    return this.#discarding;
  }

  /** Bytes discarded so far while draining an unread body. */
  get drained(): number {
    return this.#drained;
  }

  /** Known bytes of body not received yet; -1 when unknown (chunked). */
  get bodyRemaining(): number {
    return this.#decoder !== null ? -1 : this.#remaining;
  }

  // ---- BodySource: the application reads ----

  wantBody(): void {
    if (this.#expectContinue && !this.response.committed) {
      this.#expectContinue = false;
      this.conn.send(this.conn.protocolVersion === 11 ? CONTINUE : CONTINUE_10);
    }
    this.conn.bodyWanted();
  }

  bodyConsumed(): void {
    this.conn.bodyConsumed();
  }

  // ---- ResponseOwner ----

  get socket() {
    return this.conn.socket;
  }

  get keepAliveHint(): string {
    return this.conn.server.keepAliveHint;
  }

  get serverSoftware(): string {
    return this.conn.server.options.serverSoftware;
  }

  get protocol(): string {
    return this.conn.server.options.protocol;
  }

  get minimalConnectionHeaders(): boolean {
    return this.conn.server.options.connectionHeaders === 'minimal';
  }

  canKeepAlive(): boolean {
    if (!this.conn.allowsKeepAlive(this.head)) return false;
    if (this.#bodyDone) return true;
    // The client waits for 100 Continue that never came: it may or may not send the body, so
    // the only safe way to find the next request is a new connection (RFC 9110 §10.1.1).
    if (this.#expectContinue) return false;
    // What has not arrived yet would have to be read and thrown away; chunked bodies are drained
    // optimistically and the connection closes if they run past the limit.
    const remaining = this.bodyRemaining;
    return remaining === -1 || remaining <= this.conn.server.options.maxDrainSize;
  }

  responseEnded(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
    this.#responseDone = true;
    if (this.#pushMode) this.appFinished();
  }

  warn(message: string): void {
    this.conn.server.logger.warn(`${this.requestLine}: ${message}`);
  }

  send(data: string | Buffer): void {
    this.conn.send(data);
  }

  writeBlocked(): void {
    this.conn.writeBlocked();
  }

  writeResumed(): void {
    this.conn.writeResumed();
  }

  responseAborted(reason: unknown): void {
    this.conn.responseAborted(this, reason);
  }

  responseFailed(error: unknown): void {
    this.appFailed(error);
  }

  continueSent(): void {
    this.#expectContinue = false;
  }

  // ---- GatewayExchange ----

  /**
   * The app returned `rocket.response`: it writes the response by calls, and the exchange is done
   * when the response ends (or is aborted), whenever that is.
   */
  awaitResponse(): void {
    if (this.#finished) return;
    if (this.#responseDone) this.appFinished();
    else this.#pushMode = true;
  }

  appFinished(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.#responseDone) {
      // Aborted underneath (client gone); the connection is already closing.
      return;
    }
    if (!this.#bodyDone) {
      // The rest is drained and thrown away; a read still waiting hears the end once it comes.
      this.input?.discard();
      this.#discarding = true;
    }
    this.conn.exchangeDone(this, this.#keepAlive);
  }

  appFailed(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.response.aborted) return;
    this.conn.appFailed(this, error);
  }

  closeFailed(error: unknown): void {
    this.conn.server.logger.error(`${this.requestLine}: error while closing the response body: ${describeError(error)}`);
  }

  /**
   * The exchange ends early (malformed body, timeout, disconnect, server error): reads fail, the
   * response stops, whatever the app still does is ignored.
   */
  kill(reason: unknown): void {
    this.#finished = true;
    this.#discarding = true;
    this.input?.fail(reason);
    this.response.cancel(reason);
  }

  /** `GET /path HTTP/1.1`, for log lines. */
  get requestLine(): string {
    return `${this.head.method} ${this.head.target} HTTP/1.${this.head.version === 11 ? 1 : 0}`;
  }
}
