/**
 * One client connection: reads requests off the socket, runs them one at a time, writes their
 * responses in order, and decides when the connection ends.
 *
 * The life of a request
 * ---------------------
 *   Head ──(head parsed)──▶ Exchange ──(response sent, body read or drained)──▶ Head …
 *     │                       │
 *     └─(bad head, timeout)───┴─(error response, Connection: close, timeout)──▶ Closing ──▶ Closed
 *
 * 1. Bytes arrive and are appended to one read buffer; while in `Head`, the head parser looks for
 *    a complete request head in it (`http/request-head.ts`).
 * 2. A complete head is checked for framing (`http/framing.ts`), becomes an {@link Exchange} with
 *    its environ, and the gateway app runs.
 * 3. While the exchange lasts, body bytes go to `wsgi.input` (de-chunked when needed) and never
 *    further; bytes after the body are the next, pipelined request and wait in the buffer.
 * 4. When the response is complete: a body the app left unread is drained (up to `maxDrainSize`)
 *    or the connection closes; with keep-alive the next request is parsed from the buffer — in the
 *    same turn when it is already there, so pipelined responses leave in one corked write.
 * 5. A malformed request gets its status code (400, 408, 413, 414, 431, 501, 505) in a
 *    well-formed response with `Connection: close`; the socket is then half-closed and lingers
 *    briefly, discarding input, so the client reads the response instead of a reset.
 *
 * Timers are deadlines in the monitor (`monitor.ts`); every close path cancels them.
 */

import type { Socket } from 'node:net';
import type { ConnectionInfo, ServerInfo } from './environ.js';
import { HttpError } from './errors.js';
import { describeError, Exchange } from './exchange.js';
import type { GatewayApp } from './gateway.js';
import type { ChunkedLimits } from './http/chunked.js';
import { connectionOptions, requestBodyFraming, requestWantsKeepAlive, trimOWS } from './http/framing.js';
import { HeadScan, parseRequestHead, type HeadLimits, type RequestHead } from './http/request-head.js';
import { errorResponse } from './http/response-head.js';
import { TimerKind, type Monitor, type TimerEntry } from './monitor.js';
import type { Logger, ResolvedOptions } from './options.js';
import { httpDate } from './response.js';

/** What a connection needs from its server. */
export interface ServerContext {
  readonly app: GatewayApp;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly monitor: Monitor;
  readonly serverInfo: ServerInfo;
  readonly headLimits: HeadLimits;
  readonly chunkedLimits: ChunkedLimits;
  /** Whole seconds for the `Keep-Alive: timeout=N` hint. */
  readonly keepAliveHint: number;
  /** True while the server stops: no response keeps its connection open. */
  readonly stopping: boolean;
  connectionClosed(conn: Connection): void;
  requestCompleted(): void;
}

const enum State {
  /** Waiting for, or parsing, a request head. */
  Head,
  /** A request is being served. */
  Exchange,
  /** Half-closed: our side ended, input is discarded until the client closes or the linger ends. */
  Closing,
  Closed,
}

/** Body bytes buffered unread before the socket is paused. */
const BODY_HIGH_WATER = 64 * 1024;
/** Most milliseconds a closing connection waits for the client to close. */
const LINGER_MS = 2000;

const kConnection = Symbol('rocket.connection');
type OwnedSocket = Socket & { [kConnection]?: Connection };

export class Connection implements TimerEntry {
  readonly socket: Socket;
  readonly server: ServerContext;
  readonly info: ConnectionInfo;
  #state = State.Head;
  /** Unconsumed input is `#buf[#start..#end)`. */
  #buf: Buffer | null = null;
  #start = 0;
  #end = 0;
  readonly #scan = new HeadScan();
  #exchange: Exchange | null = null;
  #requests = 0;
  #processing = false;
  #paused = false;
  #peerEnded = false;

  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  timerList: TimerEntry['timerList'] = null;
  timerDeadline = 0;
  timerKind: TimerKind = TimerKind.Head;

  constructor(socket: Socket, server: ServerContext, info: ConnectionInfo) {
    this.socket = socket;
    this.server = server;
    this.info = info;
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', Connection.#onData);
    socket.on('end', Connection.#onEnd);
    socket.on('close', Connection.#onClose);
    socket.on('error', Connection.#onError);
    // A fresh connection has `socketTimeout` to send its first request.
    server.monitor.arm(this, TimerKind.Head, server.options.socketTimeout * 1000);
  }

  /** Requests completed on this connection. */
  get requests(): number {
    return this.#requests;
  }

  /** True while no request is in progress and no byte of the next one arrived. */
  get idle(): boolean {
    return this.#state === State.Head && this.#start === this.#end;
  }

  static #onData(this: OwnedSocket, chunk: Buffer): void {
    this[kConnection]!.#received(chunk);
  }

  static #onEnd(this: OwnedSocket): void {
    this[kConnection]!.#peerEnd();
  }

  static #onClose(this: OwnedSocket): void {
    this[kConnection]!.#closed();
  }

  static #onError(this: OwnedSocket, error: NodeJS.ErrnoException): void {
    // Resets and broken pipes are how clients leave; 'close' follows and cleans up.
    this[kConnection]!.server.logger.debug(`connection ${this[kConnection]!.info.id}: ${error.code ?? error.message}`);
  }

  #received(chunk: Buffer): void {
    if (this.#state >= State.Closing) return;
    if (this.#start === this.#end) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
    } else {
      const left = this.#end - this.#start;
      const merged = Buffer.allocUnsafe(left + chunk.length);
      this.#buf!.copy(merged, 0, this.#start, this.#end);
      chunk.copy(merged, left);
      this.#buf = merged;
      this.#start = 0;
      this.#end = merged.length;
    }
    try {
      this.#process(true);
    } catch (error) {
      // A bug of ours must cost one connection, never the process.
      this.server.logger.error(`connection ${this.info.id}: internal error: ${describeError(error)}`);
      this.socket.destroy();
    }
  }

  /** Parse and serve what the buffer holds, as far as the current state allows. */
  #process(activity: boolean): void {
    if (this.#processing) return;
    this.#processing = true;
    const socket = this.socket;
    socket.cork();
    try {
      for (;;) {
        if (this.#state === State.Head) {
          if (this.#start === this.#end) break;
          let head: RequestHead | null;
          try {
            head = parseRequestHead(this.#buf!, this.#start, this.#end, this.server.headLimits, this.#scan);
          } catch (error) {
            this.#reject(error as HttpError);
            break;
          }
          if (head === null) break;
          this.#consume(head.size);
          this.#scan.reset();
          this.#begin(head);
          continue;
        }
        if (this.#state === State.Exchange) {
          const exchange = this.#exchange!;
          if (exchange.bodyDone || this.#start === this.#end) break;
          let used: number;
          try {
            used = exchange.feed(this.#buf!, this.#start, this.#end);
          } catch (error) {
            this.#reject(error as HttpError);
            break;
          }
          this.#consume(used);
          if (exchange.discarding) {
            if (exchange.bodyDone) this.#nextRequest();
            else if (exchange.drained > this.server.options.maxDrainSize) this.#shutdown();
          }
          continue;
        }
        break;
      }
    } finally {
      this.#processing = false;
      socket.uncork();
    }
    if (this.#state < State.Closing) {
      this.#updateTimer(activity);
      this.#updateFlow();
    }
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) {
      this.#buf = null;
      this.#start = this.#end = 0;
    }
  }

  /** A head was parsed: check what applies to the whole request, then run the app. */
  #begin(head: RequestHead): void {
    let exchange: Exchange;
    try {
      if (head.method === 'CONNECT') {
        throw new HttpError(501, 'ROCKET_ERR_METHOD_NOT_IMPLEMENTED', 'CONNECT is not supported: this is an origin server');
      }
      const framing = requestBodyFraming(head, this.server.options.maxBodySize);
      const expectContinue = checkExpect(head) && framing.kind !== 'none';
      exchange = new Exchange(this, head, framing, expectContinue);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      this.#reject(error);
      return;
    }
    this.#exchange = exchange;
    this.#state = State.Exchange;
    exchange.run();
  }

  // ---- called by the exchange ----

  /** May the connection carry another request after `head`'s response? */
  mayKeepAlive(head: RequestHead): boolean {
    return (
      !this.server.stopping &&
      // A client that shut down its side can still have pipelined requests waiting here.
      !(this.#peerEnded && this.#start === this.#end) &&
      requestWantsKeepAlive(head.version, head.connection === null ? 0 : connectionOptions(head.connection))
    );
  }

  /** The app waits for body bytes: make sure they are read, and time their arrival. */
  bodyWanted(): void {
    if (this.#state !== State.Exchange) return;
    this.#updateFlow();
    this.#updateTimer(false);
  }

  /** The app took body bytes out of the buffer. */
  bodyConsumed(): void {
    if (this.#paused) this.#updateFlow();
  }

  /** The response was sent and the app closed its body. */
  exchangeDone(exchange: Exchange, keepAlive: boolean): void {
    if (exchange !== this.#exchange || this.#state !== State.Exchange) return;
    this.server.requestCompleted();
    if (!keepAlive) {
      this.#requests++;
      this.#shutdown();
      return;
    }
    if (!exchange.bodyDone) {
      // The body is drained in #process as it arrives; the next request waits for its end.
      if (!this.#processing) {
        this.#updateTimer(false);
        this.#updateFlow();
      }
      return;
    }
    this.#nextRequest();
  }

  #nextRequest(): void {
    this.#exchange = null;
    this.#requests++;
    this.#state = State.Head;
    if (this.#peerEnded && this.#start === this.#end) {
      this.#shutdown();
      return;
    }
    this.#process(false);
  }

  /** The app failed: a 500 if nothing was sent yet, else the response is cut off. */
  appFailed(exchange: Exchange, error: unknown): void {
    if (exchange !== this.#exchange || this.#state !== State.Exchange) return;
    this.server.requestCompleted();
    const committed = exchange.response.committed;
    this.server.logger.error(
      `${exchange.requestLine}: the application failed${committed ? ' after the response head was sent; the connection is aborted' : ''}: ${describeError(error)}`,
    );
    exchange.kill(error);
    if (committed) this.socket.destroy();
    else this.#sendError(500, undefined);
  }

  // ---- errors, timeouts, closing ----

  /** Refuse the current request with the status of `error`, then close. */
  #reject(error: HttpError): void {
    if (!(error instanceof HttpError)) throw error;
    if (this.#state >= State.Closing) return;
    const exchange = this.#exchange;
    if (exchange !== null) {
      const committed = exchange.response.committed;
      exchange.kill(error);
      if (committed) {
        this.server.logger.debug(`connection ${this.info.id}: ${error.message} after the response head was sent`);
        this.socket.destroy();
        return;
      }
    }
    this.server.logger.debug(`connection ${this.info.id}: ${error.status} ${error.code}: ${error.message}`);
    this.#sendError(error.status, error.message);
  }

  #sendError(status: number, detail: string | undefined): void {
    const socket = this.socket;
    if (!socket.destroyed) socket.write(errorResponse(status, detail, httpDate(), this.server.options.serverSoftware || null), 'utf8');
    this.#shutdown();
  }

  /**
   * End our side and stop serving. Input is read and discarded for a little while, so a client
   * still sending (an upload we refused) gets to read our response rather than a reset.
   */
  #shutdown(): void {
    if (this.#state >= State.Closing) return;
    this.#state = State.Closing;
    this.#exchange?.kill(new Error('the connection is closing'));
    this.#buf = null;
    this.#start = this.#end = 0;
    this.socket.end();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    const socketTimeout = this.server.options.socketTimeout * 1000;
    this.server.monitor.arm(this, TimerKind.Linger, socketTimeout > 0 ? Math.min(LINGER_MS, socketTimeout) : LINGER_MS);
  }

  /** Close now, whatever is in flight. */
  destroy(): void {
    this.socket.destroy();
  }

  onTimeout(kind: TimerKind): void {
    switch (kind) {
      case TimerKind.Idle:
        this.#shutdown();
        return;
      case TimerKind.Head:
        if (this.#state !== State.Head) return;
        // Nothing of a request arrived: just close. Part of one did: tell the client why.
        if (this.#start === this.#end) this.#shutdown();
        else this.#reject(new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'the request head did not arrive in time'));
        return;
      case TimerKind.Body:
        if (this.#state !== State.Exchange) return;
        this.#reject(new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'the request body did not arrive in time'));
        return;
      case TimerKind.Write:
      case TimerKind.Linger:
        this.socket.destroy();
        return;
    }
  }

  #peerEnd(): void {
    this.#peerEnded = true;
    switch (this.#state) {
      case State.Head:
        // A partial head can never complete now; without one there is nothing left to do.
        this.#shutdown();
        return;
      case State.Exchange:
        if (!this.#exchange!.bodyDone) {
          this.#reject(new HttpError(400, 'ROCKET_ERR_INCOMPLETE_BODY', 'the client closed before sending the whole body'));
        }
        // Otherwise the response is still sent; the connection closes after it.
        return;
      case State.Closing:
        this.socket.destroy();
        return;
    }
  }

  #closed(): void {
    this.#state = State.Closed;
    this.server.monitor.cancel(this);
    this.#exchange?.kill(Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }));
    this.#exchange = null;
    this.#buf = null;
    this.server.connectionClosed(this);
  }

  /**
   * The one deadline that applies now. `activity` (bytes arrived) restarts an inactivity
   * deadline; without it, a deadline of the same kind keeps running.
   */
  #updateTimer(activity: boolean): void {
    const monitor = this.server.monitor;
    const options = this.server.options;
    let kind: TimerKind;
    let ms: number;
    if (this.#state === State.Head) {
      if (this.#start !== this.#end || this.#requests === 0) {
        kind = TimerKind.Head;
        ms = options.socketTimeout * 1000;
      } else {
        kind = TimerKind.Idle;
        ms = options.timeout * 1000;
      }
    } else if (this.#exchange!.awaitingBody) {
      kind = TimerKind.Body;
      ms = options.socketTimeout * 1000;
    } else {
      monitor.cancel(this);
      return;
    }
    if (!activity && this.timerList !== null && this.timerKind === kind) return;
    monitor.arm(this, kind, ms);
  }

  /** Pause the socket while unread input piles up; resume when it is wanted again. */
  #updateFlow(): void {
    let pause = false;
    if (this.#state === State.Exchange) {
      const exchange = this.#exchange!;
      if (exchange.bodyDone) {
        // Pipelined requests wait their turn; one head's worth of them is enough to hold.
        pause = this.#end - this.#start > this.server.headLimits.maxRequestLine + this.server.headLimits.maxHeaderSize;
      } else {
        pause = exchange.bufferedBody >= BODY_HIGH_WATER && !exchange.awaitingBody;
      }
    }
    if (pause === this.#paused) return;
    this.#paused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }
}

/**
 * RFC 9110 §10.1.1: `100-continue` is the only expectation; any other is answered 417. An
 * HTTP/1.0 request's expectation is ignored ("MUST ignore").
 */
function checkExpect(head: RequestHead): boolean {
  if (head.expect === null || head.version === 10) return false;
  if (trimOWS(head.expect).toLowerCase() === '100-continue') return true;
  throw new HttpError(417, 'ROCKET_ERR_EXPECTATION_FAILED', 'only the 100-continue expectation is supported');
}
