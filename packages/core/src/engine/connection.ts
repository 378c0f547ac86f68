/**
 * One client connection: reads requests off the socket, runs them one at a time, writes their
 * responses in order, and decides when the connection ends.
 *
 * The life of a request
 * ---------------------
 *   Head ─(head parsed)─▶ Queued ─(worker)─▶ Exchange ─(response sent, body read or drained)─▶ Head …
 *     │                     │                   │
 *     └─(bad head, timeout)─┴─(queue timeout)───┴─(error, Connection: close, timeout)─▶ Closing ─▶ Closed
 *
 * 1. Bytes arrive and are appended to one read buffer (`read-buffer.ts`); while in `Head`, the head parser looks for
 *    a complete request head in it (`http/request-head.ts`). No worker is needed for that: a slow
 *    client cannot pin one.
 * 2. A complete head needs a worker from the pool (`pool.ts`); without a free one, the connection
 *    waits in the pool's queue (`Queued`), its socket paused.
 * 3. With a worker, the head is checked for framing (`http/framing.ts`), becomes an
 *    {@link Exchange} with its environ, and the gateway app runs.
 * 4. While the exchange lasts, body bytes go to `wsgi.input` (de-chunked when needed) and never
 *    further; bytes after the body are the next, pipelined request and wait in the buffer.
 * 5. When the response is complete: a body the app left unread is drained (up to `maxDrainSize`)
 *    or the connection closes; with keep-alive the next request is parsed from the buffer — in the
 *    same turn when it is already there, so pipelined responses leave in one corked write
 *    (`output.ts`). Whether another request is served at all is `keep-alive.ts`'s question. A
 *    connection with nothing more to do gives its worker back and waits, idle, in the monitor.
 * 6. A malformed request gets its status code (400, 408, 413, 414, 431, 501, 505) in a
 *    well-formed response with `Connection: close`; the socket is then half-closed and lingers
 *    briefly, discarding input, so the client reads the response instead of a reset
 *    (`closing.ts`).
 * 7. A connection whose last response promised keep-alive is only ever closed with nothing unread
 *    on it: an idle close (keep-alive timeout, stop, restart) waits until the event loop has polled
 *    the socket once more after the decision, and reads and answers whatever came. When a stop or
 *    restart retires a connection that was in use moments ago, its client gets a short last call
 *    (from its last response) to send the request it is about to send; that request is served
 *    with `Connection: close`. `idle-close.ts` keeps the time of these waits.
 * 8. After the last request `maxRequestsPerConnection` allows, requests already whole in the buffer
 *    are answered 503 with `Connection: close`, and nothing more is read (`keep-alive.ts`).
 *
 * Deadlines live in the monitor (`monitor.ts`), one per connection at a time: which one applies is
 * `connection-timer.ts`, when it falls `deadlines.ts`, and what its falling does `closing.ts`;
 * every close path cancels it and gives back the worker. What a refusal says is `refusals.ts`;
 * counting a finished response, `accounting.ts`. The state these modules share with this one is
 * typed, and keyed by symbols, in `connection-state.ts`.
 */

import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../gateway/environ.js';
import { describeError, HttpError } from '../errors.js';
import { requestBodyFraming } from '../http/framing.js';
import { HeadScan, parseRequestHead, type RequestHead } from '../http/request-head.js';
import { requestStart } from '../observability/diagnostics.js';
import { accountExchange } from './accounting.js';
import { abort, beginRetiring, closed, deadlinePassed, lastCall, refuseOverloaded, reject, sendError, shutdown } from './closing.js';
import {
  guard,
  kAwaitingDrain,
  kExchange,
  kHasWorker,
  kHeadStarted,
  kIdleClose,
  kIdleSince,
  kInput,
  kOutput,
  kPaused,
  kQueuedHead,
  kRequests,
  kRequestStarted,
  kRetireBy,
  kRetiring,
  kSocketError,
  kState,
  releaseWorker,
  State,
  type ConnectionCore,
  type CoreServer,
} from './connection-state.js';
import { armWrite, updateTimer } from './connection-timer.js';
import { lingerMs } from './deadlines.js';
import { Exchange, type ExchangeHost } from './exchange.js';
import type { IdleClose } from './idle-close.js';
import { allowsAnotherRequest, pastRequestLimit, refusePastLimit, type KeepAliveServer } from './keep-alive.js';
import { TimerKind, type TimerEntry } from './monitor.js';
import { Output } from './output.js';
import { ReadBuffer } from './read-buffer.js';
import { checkExpect, publicDetail } from './refusals.js';

/** What a connection needs from its server. */
export interface ServerContext extends CoreServer, KeepAliveServer {
  readonly options: CoreServer['options'];
  connectionClosed(conn: Connection): void;
  /** The connection was handed over (an Upgrade); its socket is no longer served as HTTP. */
  connectionDetached(conn: Connection, socket: Socket): void;
}

/** Body bytes buffered unread before the socket is paused. */
const BODY_HIGH_WATER = 64 * 1024;

const kConnection = Symbol('rocket.connection');
type OwnedSocket = Socket & { [kConnection]?: Connection };

export class Connection implements ConnectionCore, ExchangeHost {
  readonly socket: Socket;
  readonly server: ServerContext;
  readonly info: ConnectionInfo;
  // Shared with connection-timer.ts and closing.ts; described in connection-state.ts.
  [kState] = State.Head;
  readonly [kInput] = new ReadBuffer();
  readonly [kOutput]: Output;
  [kHeadStarted] = 0;
  [kRequestStarted] = 0;
  [kQueuedHead]: RequestHead | null = null;
  [kExchange]: Exchange | null = null;
  [kHasWorker] = false;
  [kRequests] = 0;
  [kPaused] = false;
  [kSocketError]: Error | null = null;
  [kRetiring] = false;
  [kRetireBy] = Infinity;
  [kIdleSince]: number;
  [kIdleClose]: IdleClose | null = null;
  [kAwaitingDrain] = false;
  readonly #scan = new HeadScan();
  #processing = false;
  #peerEnded = false;

  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  timerSlot = -1;
  timerDeadline = 0;
  timerKind: TimerKind = TimerKind.Head;

  constructor(socket: Socket, server: ServerContext, info: ConnectionInfo) {
    this.socket = socket;
    this.server = server;
    this.info = info;
    this[kOutput] = new Output(socket);
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', Connection.#onData);
    socket.on('end', Connection.#onEnd);
    socket.on('close', Connection.#onClose);
    socket.on('error', Connection.#onError);
    socket.on('drain', Connection.#onDrain);
    socket.on('finish', Connection.#onFinish);
    // A fresh connection has `socketTimeout` to send its first request.
    this[kIdleSince] = Date.now();
    server.monitor.arm(this, TimerKind.Head, server.options.socketTimeout * 1000);
  }

  /** Requests completed on this connection. */
  get requests(): number {
    return this[kRequests];
  }

  /** True while no request is in progress and no byte of the next one arrived. */
  get idle(): boolean {
    return this[kState] === State.Head && this[kInput].empty;
  }

  /** True while responses wait for the client to read them before another request is read. */
  get flushing(): boolean {
    return this[kAwaitingDrain];
  }

  /** True while a request of this connection is served or waits for a worker. */
  get active(): boolean {
    return this[kState] === State.Exchange || this[kState] === State.Queued;
  }

  static #onData(this: OwnedSocket, chunk: Buffer): void {
    this[kConnection]!.#received(chunk);
  }

  static #onEnd(this: OwnedSocket): void {
    guard(this[kConnection]!, Connection.#peerEnd);
  }

  static #onClose(this: OwnedSocket): void {
    const conn = this[kConnection]!;
    closed(conn);
    conn.server.connectionClosed(conn);
  }

  static #onDrain(this: OwnedSocket): void {
    const conn = this[kConnection]!;
    if (!conn[kAwaitingDrain]) return;
    conn[kAwaitingDrain] = false;
    conn[kIdleSince] = Date.now();
    guard(conn, Connection.#processBuffered);
  }

  /** Everything we wrote, the end included, was handed to the system: now wait for the client to close. */
  static #onFinish(this: OwnedSocket): void {
    const conn = this[kConnection]!;
    if (conn[kState] !== State.Closing) return;
    conn.server.monitor.arm(conn, TimerKind.Linger, lingerMs(conn.server.options, false));
  }

  /** Serve what is buffered; nothing arrived, so the inactivity deadline keeps running. */
  static #processBuffered(this: Connection): void {
    this.#process(false);
  }

  static #onError(this: OwnedSocket, error: NodeJS.ErrnoException): void {
    // Resets and broken pipes are how clients leave; 'close' follows and cleans up, and tells the
    // app this error as the reason.
    this[kConnection]![kSocketError] ??= error;
    this[kConnection]!.server.logger.debug(`connection ${this[kConnection]!.info.id}: ${error.code ?? error.message}`);
  }

  static #peerEnd(this: Connection): void {
    this.#peerEnded = true;
    switch (this[kState]) {
      case State.Head:
        // A partial head can never complete now; without one there is nothing left to do.
        shutdown(this);
        return;
      case State.Queued:
        // The request is complete: it is still served, and the connection closes after it.
        return;
      case State.Exchange: {
        const exchange = this[kExchange]!;
        if (!exchange.bodyDone) {
          reject(this, new HttpError(400, 'ROCKET_ERR_INCOMPLETE_BODY', 'the client closed before sending the whole body'));
          return;
        }
        // The request is whole, so the response is still sent; the app hears that the client
        // closed its side (for a long poll, that is the client leaving).
        if (!exchange.response.ended) {
          exchange.response.notifyClose(Object.assign(new Error('the client closed its side of the connection'), { code: 'ECONNRESET' }));
        }
        return;
      }
      case State.Closing:
        this.socket.destroy();
        return;
    }
  }

  #received(chunk: Buffer): void {
    if (this[kState] >= State.Closing) return;
    this[kInput].append(chunk);
    if (this[kState] === State.Head && this[kHeadStarted] === 0) this[kHeadStarted] = Date.now();
    guard(this, Connection.#processReceived);
  }

  /** Serve what arrived: bytes from the client restart the inactivity deadline. */
  static #processReceived(this: Connection): void {
    this.#process(true);
  }

  /**
   * Send `data` (text as latin1) after everything sent before. While requests are processed in a
   * batch, text is gathered and written once when the batch ends: the responses to a run of
   * pipelined requests leave in one write.
   */
  send(data: string | Buffer): void {
    this[kOutput].send(data);
  }

  /**
   * Parse and serve what the buffer holds, as far as the current state allows. `activity`: bytes
   * just arrived, which restarts the deadline of an inactivity wait.
   */
  #process(activity: boolean): void {
    if (this.#processing) return;
    this.#processing = true;
    this[kOutput].beginBatch();
    const socket = this.socket;
    socket.cork();
    try {
      for (;;) {
        if (this[kState] === State.Head) {
          if (this[kInput].empty) break;
          // Earlier responses fill the socket: read nothing more until the client reads them,
          // or a pipelining client that never reads would make us buffer without end.
          if (socket.writableNeedDrain) break;
          let head: RequestHead | null;
          try {
            head = parseRequestHead(this[kInput].buf!, this[kInput].start, this[kInput].end, this.server.headLimits, this.#scan);
          } catch (error) {
            reject(this, error as HttpError);
            break;
          }
          if (head === null) break;
          this[kInput].consume(head.size);
          this.#scan.reset();
          this[kRequestStarted] = this[kHeadStarted];
          this[kHeadStarted] = this[kInput].empty ? 0 : Date.now();
          if (!this[kHasWorker]) {
            if (!this.server.pool.acquire(this)) {
              this[kQueuedHead] = head;
              this[kState] = State.Queued;
              break;
            }
            this[kHasWorker] = true;
          }
          this.#begin(head);
          continue;
        }
        if (this[kState] === State.Exchange) {
          const exchange = this[kExchange]!;
          if (exchange.bodyDone || this[kInput].empty) break;
          let used: number;
          try {
            used = exchange.feed(this[kInput].buf!, this[kInput].start, this[kInput].end);
          } catch (error) {
            reject(this, error as HttpError);
            break;
          }
          this[kInput].consume(used);
          if (exchange.discarding) {
            if (exchange.bodyDone) this.#nextRequest();
            else if (exchange.drained > this.server.options.maxDrainSize) shutdown(this);
          }
          continue;
        }
        break;
      }
    } finally {
      this.#processing = false;
      this[kOutput].endBatch();
      socket.uncork();
    }
    if (this[kState] < State.Closing) {
      if (this[kState] === State.Head) {
        this[kAwaitingDrain] = socket.writableNeedDrain;
        // Idle, flushing, or only part of a head so far: the worker goes back to the pool.
        if (this[kHasWorker]) releaseWorker(this);
      }
      updateTimer(this, activity);
      this.#updateFlow();
      if (this[kRetiring] && this[kState] === State.Head && this[kInput].empty && !this[kAwaitingDrain]) lastCall(this);
    }
  }

  /** A head was parsed and a worker is ours: check what applies to the whole request, then run the app. */
  #begin(head: RequestHead): void {
    let exchange: Exchange;
    try {
      if (head.method === 'CONNECT') {
        throw new HttpError(501, 'ROCKET_ERR_METHOD_NOT_IMPLEMENTED', 'CONNECT is not supported: this is an origin server');
      }
      const framing = requestBodyFraming(head, this.server.options.maxBodySize);
      const expectContinue = checkExpect(head) && framing.kind !== 'none';
      exchange = new Exchange(this, head, framing, expectContinue);
      if (expectContinue && this.server.options.eagerContinue) exchange.wantBody();
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      reject(this, error, head);
      return;
    }
    this[kExchange] = exchange;
    this[kState] = State.Exchange;
    this.server.metrics.inFlight++;
    if (requestStart.hasSubscribers) requestStart.publish({ environ: exchange.environ, connection: this.info });
    exchange.run();
  }

  /** The pool gave this queued connection a worker. */
  workerGranted(): void {
    if (this[kState] !== State.Queued) {
      // Gone meanwhile: pass the worker on.
      this.server.pool.release();
      return;
    }
    this[kHasWorker] = true;
    const head = this[kQueuedHead]!;
    this[kQueuedHead] = null;
    this[kState] = State.Head;
    guard(this, function (this: Connection) {
      this.#processing = true;
      this.socket.cork();
      try {
        this.#begin(head);
      } finally {
        this.#processing = false;
        this.socket.uncork();
      }
      this.#process(false);
    });
  }

  // ---- called by the exchange ----

  /** Do the client and the server both allow another request after `head`'s response? (`keep-alive.ts`) */
  allowsKeepAlive(head: RequestHead): boolean {
    return allowsAnotherRequest(this.server, head, this.protocolVersion, this[kRequests], this[kRetiring], this.#peerEnded && this[kInput].empty);
  }

  /** 11, or 10 when the server speaks HTTP/1.0 (the protocol option). */
  get protocolVersion(): number {
    return this.server.options.protocol === 'HTTP/1.0' ? 10 : 11;
  }

  /** The app waits for body bytes: make sure they are read, and time their arrival. */
  bodyWanted(): void {
    if (this[kState] !== State.Exchange) return;
    this.#updateFlow();
    updateTimer(this, false);
  }

  /** The app took body bytes out of the buffer. */
  bodyConsumed(): void {
    if (this[kPaused]) this.#updateFlow();
  }

  /** The response waits for the client to read it: time that. */
  writeBlocked(): void {
    if (this[kState] === State.Exchange) armWrite(this);
  }

  /** The client read enough: back to the deadline of the current state. */
  writeResumed(): void {
    if (this[kState] === State.Exchange && this.timerKind === TimerKind.Write) {
      this.server.monitor.cancel(this);
      updateTimer(this, false);
    }
  }

  /** The response was sent and the app closed its body. */
  exchangeDone(exchange: Exchange, keepAlive: boolean): void {
    if (exchange !== this[kExchange] || this[kState] !== State.Exchange) return;
    accountExchange(this.server, this.info, exchange);
    guard(this, function (this: Connection) {
      if (!keepAlive) {
        this[kRequests]++;
        if (exchange.bodyDone && pastRequestLimit(this.server.options.maxRequestsPerConnection, this[kRequests], this[kInput])) {
          refusePastLimit(this[kInput], this[kOutput], this.server, this.info, this[kHeadStarted]);
        }
        shutdown(this);
        return;
      }
      if (!exchange.bodyDone) {
        // The body is drained in #process as it arrives, against one deadline; the next request
        // waits for its end. No application code runs meanwhile, so the worker goes back.
        if (this[kHasWorker]) releaseWorker(this);
        if (!this.#processing) {
          updateTimer(this, false);
          this.#updateFlow();
        }
        return;
      }
      this.#nextRequest();
    });
  }

  /**
   * The response went out promising keep-alive: read on. Even when the connection is retiring, the
   * client may already have sent its next request, and it is served (with `Connection: close`):
   * only a client that was told so can know a request of its went unanswered.
   */
  #nextRequest(): void {
    this[kExchange] = null;
    this[kRequests]++;
    this[kState] = State.Head;
    if (this.#peerEnded && this[kInput].empty) {
      shutdown(this);
      return;
    }
    this[kIdleSince] = Date.now();
    this[kHeadStarted] = this[kInput].empty ? 0 : this[kIdleSince];
    this.#process(false);
  }

  /** The app failed: a 500 if nothing was sent yet, else the response is cut off. */
  appFailed(exchange: Exchange, error: unknown): void {
    if (exchange !== this[kExchange] || this[kState] !== State.Exchange) return;
    this.server.metrics.appErrors++;
    guard(this, function (this: Connection) {
      const committed = exchange.response.committed;
      this.server.logger.error(
        `${exchange.requestLine}: the application failed${committed ? ' after the response head was sent; the connection is aborted' : ''}: ${describeError(error)}`,
      );
      exchange.kill(error);
      if (committed) {
        accountExchange(this.server, this.info, exchange);
        abort(this);
      } else {
        sendError(this, 500, publicDetail(error), '', exchange.isHead, { exchange });
      }
    });
  }

  /** The app aborted its response (rocket.response's abort): cut the connection, whatever was sent. */
  responseAborted(exchange: Exchange, reason: unknown): void {
    if (exchange !== this[kExchange] || this[kState] !== State.Exchange) return;
    accountExchange(this.server, this.info, exchange);
    this.server.logger.debug(`${exchange.requestLine}: the application aborted the response: ${describeError(reason)}`);
    exchange.kill(reason ?? new Error('the response was aborted'));
    abort(this);
  }

  /**
   * Hand the socket over (an Upgrade): stop serving HTTP on it, and give back the socket and the
   * bytes received after the request head.
   */
  detach(exchange: Exchange): { socket: Socket; head: Buffer } {
    if (exchange !== this[kExchange] || this[kState] !== State.Exchange) {
      throw new Error('only the exchange in progress can take over its connection');
    }
    this[kOutput].flush();
    const socket = this.socket;
    const head = this[kInput].copy();
    this[kState] = State.Closed;
    this[kExchange] = null;
    this[kInput].clear();
    this.server.monitor.cancel(this);
    if (this[kHasWorker]) releaseWorker(this);
    socket.off('data', Connection.#onData);
    socket.off('end', Connection.#onEnd);
    socket.off('close', Connection.#onClose);
    socket.off('error', Connection.#onError);
    socket.off('drain', Connection.#onDrain);
    socket.off('finish', Connection.#onFinish);
    delete (socket as OwnedSocket)[kConnection];
    // Back to the initial flow state: the next 'data' listener starts the flow, and nothing
    // arriving meanwhile is lost.
    (socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    accountExchange(this.server, this.info, exchange, exchange.response.statusCode || 101);
    this.server.connectionDetached(this, socket);
    return { socket, head };
  }

  // ---- stop, restart, overload ----

  /**
   * The server stops or restarts: finish the request in flight (its response says `Connection:
   * close`) and close after it; a request waiting for a worker is still served. An idle connection
   * closes once nothing is unread on it — after a last call when it was in use moments ago, which
   * ends by `until` (ms since the epoch) at the latest.
   */
  retire(until = 0): void {
    beginRetiring(this, until);
  }

  /** Refuse a new connection because the queue is full: 503 with Retry-After, then close. */
  rejectOverloaded(): void {
    refuseOverloaded(this);
  }

  /** Close now, whatever is in flight. */
  destroy(): void {
    this.socket.destroy();
  }

  onTimeout(kind: TimerKind): void {
    guard(this, function (this: Connection) {
      deadlinePassed(this, kind);
    });
  }

  /** Pause the socket while unread input piles up; resume when it is wanted again. */
  #updateFlow(): void {
    let pause = false;
    if (this[kState] === State.Queued || this[kAwaitingDrain]) {
      pause = true;
    } else if (this[kState] === State.Exchange) {
      const exchange = this[kExchange]!;
      if (exchange.bodyDone) {
        // Pipelined requests wait their turn; one head's worth of them is enough to hold.
        pause = this[kInput].length > this.server.headLimits.maxRequestLine + this.server.headLimits.maxHeaderSize;
      } else {
        pause = exchange.bufferedBody >= BODY_HIGH_WATER && !exchange.awaitingBody;
      }
    }
    if (pause === this[kPaused]) return;
    this[kPaused] = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }
}
