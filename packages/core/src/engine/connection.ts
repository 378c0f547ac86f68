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
 * 1. Bytes arrive and are appended to one read buffer; while in `Head`, the head parser looks for
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
 *    same turn when it is already there, so pipelined responses leave in one corked write. A
 *    connection with nothing more to do gives its worker back and waits, idle, in the monitor.
 * 6. A malformed request gets its status code (400, 408, 413, 414, 431, 501, 505) in a
 *    well-formed response with `Connection: close`; the socket is then half-closed and lingers
 *    briefly, discarding input, so the client reads the response instead of a reset.
 * 7. A connection whose last response promised keep-alive is only ever closed with nothing unread
 *    on it: an idle close (keep-alive timeout, stop, restart) waits until the event loop has polled
 *    the socket once more after the decision, and reads and answers whatever came. When a stop or
 *    restart retires a connection that was in use moments ago, its client gets a short last call
 *    (from its last response) to send the request it is about to send; that request is served
 *    with `Connection: close`. `idle-close.ts` keeps the time of these waits.
 * 8. After the last request `maxRequestsPerConnection` allows, requests already whole in the buffer
 *    are answered 503 with `Connection: close`, and nothing more is read.
 *
 * Deadlines live in the monitor (`monitor.ts`), one per connection at a time, and fall when
 * `deadlines.ts` says; every close path cancels it and gives back the worker. What a refusal
 * says is `refusals.ts`; counting a finished response, `accounting.ts`.
 */

import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../gateway/environ.js';
import { describeError, HttpError } from '../errors.js';
import { Exchange, type ExchangeHost, type ExchangeServer } from './exchange.js';
import { connectionOptions, requestBodyFraming, requestWantsKeepAlive } from '../http/framing.js';
import { HeadScan, parseRequestHead, type HeadLimits, type RequestHead } from '../http/request-head.js';
import { TimerKind, type Monitor, type TimerEntry } from './monitor.js';
import { requestStart } from '../observability/diagnostics.js';
import { bodyDeadline, headDeadline, idleDeadline, lingerMs, queueDeadline, unsentOnWire } from './deadlines.js';
import { IdleClose } from './idle-close.js';
import { checkExpect, firstLine, offerToHook, publicDetail, refusalBytes, refusalHeaders } from './refusals.js';
import { accountExchange, accountRefusal, type AccountingServer, type Refused } from './accounting.js';
import type { PoolMember, WorkerPool } from './pool.js';

/** What a connection needs from its server. */
export interface ServerContext extends ExchangeServer, AccountingServer {
  readonly monitor: Monitor;
  readonly pool: WorkerPool;
  readonly headLimits: HeadLimits;
  /** True while the server stops: no response keeps its connection open. */
  readonly stopping: boolean;
  connectionClosed(conn: Connection): void;
  /** The connection was handed over (an Upgrade); its socket is no longer served as HTTP. */
  connectionDetached(conn: Connection, socket: Socket): void;
  /** How many connections wait, idle, for a request (for maxIdleConnections). */
  idleConnections(): number;
}

const enum State {
  /** Waiting for, or parsing, a request head. */
  Head,
  /** A head was parsed; waiting for a worker. */
  Queued,
  /** A request is being served. */
  Exchange,
  /** Half-closed: our side ended, input is discarded until the client closes or the linger ends. */
  Closing,
  Closed,
}

/** Body bytes buffered unread before the socket is paused. */
const BODY_HIGH_WATER = 64 * 1024;
/** Text gathered in a batch beyond which it is written at once, so output backpressure sees it. */
const BATCH_TEXT_LIMIT = 16 * 1024;

const kConnection = Symbol('rocket.connection');
type OwnedSocket = Socket & { [kConnection]?: Connection };

export class Connection implements TimerEntry, PoolMember, ExchangeHost {
  readonly socket: Socket;
  readonly server: ServerContext;
  readonly info: ConnectionInfo;
  #state = State.Head;
  /** Unconsumed input is `#buf[#start..#end)`. */
  #buf: Buffer | null = null;
  #start = 0;
  #end = 0;
  readonly #scan = new HeadScan();
  /** When the first byte of the head being read arrived (ms), or 0. */
  #headStarted = 0;
  /** When the first byte of the request being served arrived (ms), for `requestTimeout`. */
  #requestStarted = 0;
  /** The head waiting for a worker, in `Queued`. */
  #queuedHead: RequestHead | null = null;
  #exchange: Exchange | null = null;
  #hasWorker = false;
  #requests = 0;
  #processing = false;
  #paused = false;
  #peerEnded = false;
  /** The first error the socket reported (a reset, a broken pipe): why the client is gone. */
  #socketError: Error | null = null;
  /** Finish what is in flight, then close (a stop or restart is under way). */
  #retiring = false;
  /** When a retiring connection's last call ends at the latest (ms since the epoch). */
  #retireBy = Infinity;
  /** When the connection last had nothing to do: accepted, or its last response done (ms). */
  #idleSince: number;
  /** The waits of an idle close, made when one first starts. */
  #idleClose: IdleClose | null = null;
  /** Responses fill the socket: no further request is read until the client has read them. */
  #awaitingDrain = false;
  /** Bytes queued on the socket when the write deadline was armed, to tell progress from a stall. */
  #writeMark = 0;
  /** The same, in bytes of writes in flight that the kernel has not taken yet. */
  #wireMark = 0;
  /** `#buf` is our own allocation, with room after `#end` to append into. */
  #ownsBuffer = false;
  /** While #process runs, text to send is collected here and written once, in one piece. */
  #batching = false;
  #batchText = '';

  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  timerSlot = -1;
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
    socket.on('drain', Connection.#onDrain);
    socket.on('finish', Connection.#onFinish);
    // A fresh connection has `socketTimeout` to send its first request.
    this.#idleSince = Date.now();
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

  /** True while responses wait for the client to read them before another request is read. */
  get flushing(): boolean {
    return this.#awaitingDrain;
  }

  /** True while a request of this connection is served or waits for a worker. */
  get active(): boolean {
    return this.#state === State.Exchange || this.#state === State.Queued;
  }

  static #onData(this: OwnedSocket, chunk: Buffer): void {
    this[kConnection]!.#received(chunk);
  }

  static #onEnd(this: OwnedSocket): void {
    this[kConnection]!.#guard(Connection.#peerEnd);
  }

  static #onClose(this: OwnedSocket): void {
    this[kConnection]!.#closed();
  }

  static #onDrain(this: OwnedSocket): void {
    const conn = this[kConnection]!;
    if (!conn.#awaitingDrain) return;
    conn.#awaitingDrain = false;
    conn.#idleSince = Date.now();
    conn.#guard(Connection.#processBuffered);
  }

  /** Everything we wrote, the end included, was handed to the system: now wait for the client to close. */
  static #onFinish(this: OwnedSocket): void {
    const conn = this[kConnection]!;
    if (conn.#state !== State.Closing) return;
    conn.server.monitor.arm(conn, TimerKind.Linger, lingerMs(conn.server.options, false));
  }

  /** Serve what is buffered; nothing arrived, so the inactivity deadline keeps running. */
  static #processBuffered(this: Connection): void {
    this.#process(false);
  }

  static #onError(this: OwnedSocket, error: NodeJS.ErrnoException): void {
    // Resets and broken pipes are how clients leave; 'close' follows and cleans up, and tells the
    // app this error as the reason.
    this[kConnection]!.#socketError ??= error;
    this[kConnection]!.server.logger.debug(`connection ${this[kConnection]!.info.id}: ${error.code ?? error.message}`);
  }

  static #peerEnd(this: Connection): void {
    this.#peerEnded = true;
    switch (this.#state) {
      case State.Head:
        // A partial head can never complete now; without one there is nothing left to do.
        this.#shutdown();
        return;
      case State.Queued:
        // The request is complete: it is still served, and the connection closes after it.
        return;
      case State.Exchange: {
        const exchange = this.#exchange!;
        if (!exchange.bodyDone) {
          this.#reject(new HttpError(400, 'ROCKET_ERR_INCOMPLETE_BODY', 'the client closed before sending the whole body'));
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

  /** Run `step` so that a bug of ours costs one connection, never the process. */
  #guard(step: (this: Connection) => void): void {
    try {
      step.call(this);
    } catch (error) {
      this.server.logger.error(`connection ${this.info.id}: internal error: ${describeError(error)}`);
      this.socket.destroy();
    }
  }

  #received(chunk: Buffer): void {
    if (this.#state >= State.Closing) return;
    if (this.#start === this.#end) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#ownsBuffer = false;
    } else if (this.#ownsBuffer && this.#buf!.length - this.#end >= chunk.length) {
      // Append after what we have. Bytes before #end are never moved: body chunks handed to the
      // application may be views of them.
      chunk.copy(this.#buf!, this.#end);
      this.#end += chunk.length;
    } else {
      // Grow by doubling, so a head arriving a byte at a time costs linear time, not quadratic.
      const left = this.#end - this.#start;
      const merged = Buffer.allocUnsafe(Math.max(2 * (left + chunk.length), 4096));
      this.#buf!.copy(merged, 0, this.#start, this.#end);
      chunk.copy(merged, left);
      this.#buf = merged;
      this.#start = 0;
      this.#end = left + chunk.length;
      this.#ownsBuffer = true;
    }
    if (this.#state === State.Head && this.#headStarted === 0) this.#headStarted = Date.now();
    this.#guard(Connection.#processReceived);
  }

  /** Serve what arrived: bytes from the client restart the inactivity deadline. */
  static #processReceived(this: Connection): void {
    this.#process(true);
  }

  /**
   * Send `data` (text as latin1) after everything sent before. While requests are processed in a
   * batch, text is gathered into one string and written once when the batch ends: the responses
   * to a run of pipelined requests leave in one write.
   */
  send(data: string | Buffer): void {
    if (this.#batching) {
      if (typeof data === 'string') {
        this.#batchText += data;
        if (this.#batchText.length >= BATCH_TEXT_LIMIT) this.#flushBatch();
        return;
      }
      this.#flushBatch();
    }
    const socket = this.socket;
    if (socket.destroyed) return;
    if (typeof data === 'string') socket.write(data, 'latin1');
    else socket.write(data);
  }

  #flushBatch(): void {
    const text = this.#batchText;
    if (text === '') return;
    this.#batchText = '';
    if (!this.socket.destroyed) this.socket.write(text, 'latin1');
  }

  /**
   * Parse and serve what the buffer holds, as far as the current state allows. `activity`: bytes
   * just arrived, which restarts the deadline of an inactivity wait.
   */
  #process(activity: boolean): void {
    if (this.#processing) return;
    this.#processing = true;
    this.#batching = true;
    const socket = this.socket;
    socket.cork();
    try {
      for (;;) {
        if (this.#state === State.Head) {
          if (this.#start === this.#end) break;
          // Earlier responses fill the socket: read nothing more until the client reads them,
          // or a pipelining client that never reads would make us buffer without end.
          if (socket.writableNeedDrain) break;
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
          this.#requestStarted = this.#headStarted;
          this.#headStarted = this.#start === this.#end ? 0 : Date.now();
          if (!this.#hasWorker) {
            if (!this.server.pool.acquire(this)) {
              this.#queuedHead = head;
              this.#state = State.Queued;
              break;
            }
            this.#hasWorker = true;
          }
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
      this.#batching = false;
      this.#flushBatch();
      socket.uncork();
    }
    if (this.#state < State.Closing) {
      if (this.#state === State.Head) {
        this.#awaitingDrain = socket.writableNeedDrain;
        // Idle, flushing, or only part of a head so far: the worker goes back to the pool.
        if (this.#hasWorker) this.#releaseWorker();
      }
      this.#updateTimer(activity);
      this.#updateFlow();
      if (this.#retiring && this.#state === State.Head && this.#start === this.#end && !this.#awaitingDrain) this.#waits().lastCall(this.#idleSince, this.#retireBy);
    }
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) {
      this.#buf = null;
      this.#start = this.#end = 0;
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
      this.#reject(error, head);
      return;
    }
    this.#exchange = exchange;
    this.#state = State.Exchange;
    this.server.metrics.inFlight++;
    if (requestStart.hasSubscribers) requestStart.publish({ environ: exchange.environ, connection: this.info });
    exchange.run();
  }

  /** The pool gave this queued connection a worker. */
  workerGranted(): void {
    if (this.#state !== State.Queued) {
      // Gone meanwhile: pass the worker on.
      this.server.pool.release();
      return;
    }
    this.#hasWorker = true;
    const head = this.#queuedHead!;
    this.#queuedHead = null;
    this.#state = State.Head;
    this.#guard(function (this: Connection) {
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

  #releaseWorker(): void {
    this.#hasWorker = false;
    this.server.pool.release();
  }

  // ---- called by the exchange ----

  /**
   * Do the client and the server both allow another request after `head`'s response? The request
   * asks (`requestWantsKeepAlive`); the server allows unless it stops, this connection retires or
   * reached its request limit, the client shut its side with nothing left to read, or idle
   * connections are at their limit. The exchange adds what its body allows (`canKeepAlive`).
   */
  allowsKeepAlive(head: RequestHead): boolean {
    const options = this.server.options;
    const max = options.maxRequestsPerConnection;
    return (
      !this.server.stopping &&
      !this.#retiring &&
      (max === 0 || this.#requests + 1 < max) &&
      // A client that shut down its side can still have pipelined requests waiting here.
      !(this.#peerEnded && this.#start === this.#end) &&
      // A server speaking HTTP/1.0 keeps a connection only when the client asks, whatever its version.
      requestWantsKeepAlive(Math.min(head.version, this.protocolVersion), head.connection === null ? 0 : connectionOptions(head.connection)) &&
      (options.maxIdleConnections === 0 || this.server.idleConnections() < options.maxIdleConnections)
    );
  }

  /** 11, or 10 when the server speaks HTTP/1.0 (the protocol option). */
  get protocolVersion(): number {
    return this.server.options.protocol === 'HTTP/1.0' ? 10 : 11;
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

  /** The response waits for the client to read it: time that. */
  writeBlocked(): void {
    if (this.#state === State.Exchange) this.#armWrite();
  }

  /** Time the client's reading: no progress for `socketTimeout` and the connection is closed. */
  #armWrite(): void {
    this.#writeMark = this.socket.writableLength;
    this.#wireMark = unsentOnWire(this.socket);
    this.server.monitor.arm(this, TimerKind.Write, this.server.options.socketTimeout * 1000);
  }

  /** The client read enough: back to the deadline of the current state. */
  writeResumed(): void {
    if (this.#state === State.Exchange && this.timerKind === TimerKind.Write) {
      this.server.monitor.cancel(this);
      this.#updateTimer(false);
    }
  }

  /** The response was sent and the app closed its body. */
  exchangeDone(exchange: Exchange, keepAlive: boolean): void {
    if (exchange !== this.#exchange || this.#state !== State.Exchange) return;
    accountExchange(this.server, this.info, exchange);
    this.#guard(function (this: Connection) {
      if (!keepAlive) {
        this.#requests++;
        if (exchange.bodyDone && this.#overRequestLimit()) this.#refuseBeyondLimit();
        this.#shutdown();
        return;
      }
      if (!exchange.bodyDone) {
        // The body is drained in #process as it arrives, against one deadline; the next request
        // waits for its end. No application code runs meanwhile, so the worker goes back.
        if (this.#hasWorker) this.#releaseWorker();
        if (!this.#processing) {
          this.#updateTimer(false);
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
    this.#exchange = null;
    this.#requests++;
    this.#state = State.Head;
    if (this.#peerEnded && this.#start === this.#end) {
      this.#shutdown();
      return;
    }
    this.#idleSince = Date.now();
    this.#headStarted = this.#start === this.#end ? 0 : this.#idleSince;
    this.#process(false);
  }

  #overRequestLimit(): boolean {
    const max = this.server.options.maxRequestsPerConnection;
    return max !== 0 && this.#requests >= max && this.#start !== this.#end;
  }

  /**
   * The connection served its last allowed request, and the client pipelined more behind it: each
   * request already whole in the buffer gets a 503 with `Connection: close` rather than silence,
   * as node:http answers them. Only what was received is answered, and nothing is read after it:
   * a request with a body ends the run, since its body would have to be read to find the next.
   */
  #refuseBeyondLimit(): void {
    const limits = this.server.headLimits;
    const options = this.server.options;
    const scan = new HeadScan();
    while (this.#start !== this.#end) {
      let head: RequestHead | null;
      try {
        head = parseRequestHead(this.#buf!, this.#start, this.#end, limits, scan);
      } catch {
        return;
      }
      if (head === null) return;
      const receivedAt = this.#headStarted;
      this.#consume(head.size);
      scan.reset();
      const { bytes, bodyLength } = refusalBytes(options, 503, 'the connection served its last request', '', head.method === 'HEAD');
      this.send(bytes);
      accountRefusal(this.server, this.info, 503, bodyLength, { head }, receivedAt);
      if (head.contentLength !== null || head.transferEncoding !== null) return;
    }
  }

  /** The app failed: a 500 if nothing was sent yet, else the response is cut off. */
  appFailed(exchange: Exchange, error: unknown): void {
    if (exchange !== this.#exchange || this.#state !== State.Exchange) return;
    this.server.metrics.appErrors++;
    this.#guard(function (this: Connection) {
      const committed = exchange.response.committed;
      this.server.logger.error(
        `${exchange.requestLine}: the application failed${committed ? ' after the response head was sent; the connection is aborted' : ''}: ${describeError(error)}`,
      );
      exchange.kill(error);
      if (committed) {
        accountExchange(this.server, this.info, exchange);
        this.#abort();
      } else {
        this.#sendError(500, publicDetail(error), '', exchange.isHead, { exchange });
      }
    });
  }

  /** The app aborted its response (rocket.response's abort): cut the connection, whatever was sent. */
  responseAborted(exchange: Exchange, reason: unknown): void {
    if (exchange !== this.#exchange || this.#state !== State.Exchange) return;
    accountExchange(this.server, this.info, exchange);
    this.server.logger.debug(`${exchange.requestLine}: the application aborted the response: ${describeError(reason)}`);
    exchange.kill(reason ?? new Error('the response was aborted'));
    this.#abort();
  }

  /**
   * Hand the socket over (an Upgrade): stop serving HTTP on it, and give back the socket and the
   * bytes received after the request head.
   */
  detach(exchange: Exchange): { socket: Socket; head: Buffer } {
    if (exchange !== this.#exchange || this.#state !== State.Exchange) {
      throw new Error('only the exchange in progress can take over its connection');
    }
    this.#flushBatch();
    const socket = this.socket;
    const head = this.#start === this.#end ? Buffer.alloc(0) : Buffer.from(this.#buf!.subarray(this.#start, this.#end));
    this.#state = State.Closed;
    this.#exchange = null;
    this.#buf = null;
    this.#start = this.#end = 0;
    this.server.monitor.cancel(this);
    if (this.#hasWorker) this.#releaseWorker();
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
    this.#retiring = true;
    this.#retireBy = Math.min(this.#retireBy, until);
    if (this.#state !== State.Head || this.#awaitingDrain) return;
    // Part of a head: it was not taken on yet, so say why it never will be.
    if (this.#start !== this.#end) this.#reject(new HttpError(503, 'ROCKET_ERR_OVERLOADED', 'the server is shutting down'));
    else this.#waits().lastCall(this.#idleSince, this.#retireBy);
  }

  #waits(): IdleClose {
    return (this.#idleClose ??= new IdleClose(() => this.#closeIfQuiet()));
  }

  /**
   * Close an idle connection, but only with nothing unread on it: after one more poll of the
   * sockets (`idle-close.ts` says why), anything read meanwhile is a request to answer instead.
   */
  #closeWhenQuiet(): void {
    if (this.#state === State.Head) this.#waits().afterPoll();
  }

  #closeIfQuiet(): void {
    if (this.#state !== State.Head || this.#awaitingDrain || this.socket.readableLength > 0) return;
    if (this.#start === this.#end) this.#guard(this.#retiring ? Connection.#shutdownStep : Connection.#closeIdleStep);
    // Part of a head came during the last call and no more: say why it will not be served.
    else if (this.#retiring) this.#guard(Connection.#refuseStep);
  }

  static #shutdownStep(this: Connection): void {
    this.#shutdown();
  }

  static #refuseStep(this: Connection): void {
    this.#reject(new HttpError(503, 'ROCKET_ERR_OVERLOADED', 'the server is shutting down'));
  }

  static #closeIdleStep(this: Connection): void {
    this.#closeIdle();
  }

  /** Refuse a new connection because the queue is full: 503 with Retry-After, then close. */
  rejectOverloaded(): void {
    this.#sendError(503, 'the server is overloaded, retry later', refusalHeaders(503), false, {});
  }

  // ---- errors, timeouts, closing ----

  /** Refuse the current request with the status of `error`, then close. */
  #reject(error: HttpError, head: RequestHead | null = null): void {
    if (!(error instanceof HttpError)) throw error;
    if (this.#state >= State.Closing) return;
    const exchange = this.#exchange;
    const isHead = (head ?? this.#queuedHead)?.method === 'HEAD' || exchange?.isHead === true;
    if (exchange !== null) {
      const committed = exchange.response.committed;
      const complete = exchange.response.ended;
      exchange.kill(error);
      if (complete) {
        // The response is whole; only the unread body it left behind is bad: send it, then close.
        this.server.logger.debug(`connection ${this.info.id}: ${error.message} in the body drained after the response`);
        this.#shutdown();
        return;
      }
      if (committed) {
        this.server.logger.debug(`connection ${this.info.id}: ${error.message} after the response head was sent`);
        accountExchange(this.server, this.info, exchange);
        this.#abort();
        return;
      }
    }
    this.server.logger.debug(`connection ${this.info.id}: ${error.status} ${error.code}: ${error.message}`);
    const about: Refused = { exchange, head: head ?? this.#queuedHead, rawLine: exchange === null && head === null ? firstLine(this.#buf, this.#start, this.#end) : undefined };
    if (exchange === null && error.status !== 503 && this.#offerClientError(error)) {
      accountRefusal(this.server, this.info, error.status, 0, about, this.#headStarted);
      return;
    }
    this.#sendError(error.status, error.message, refusalHeaders(error.status), isHead, about);
  }

  /**
   * Let the `onClientError` hook answer a request refused before any app saw it. True if it took
   * the connection: reading stops, what the hook writes goes out, and it ends the connection (or
   * `socketTimeout` does).
   */
  #offerClientError(error: HttpError): boolean {
    const hook = this.server.options.onClientError;
    if (hook === null) return false;
    const received = this.#buf === null ? Buffer.alloc(0) : Buffer.from(this.#buf.subarray(this.#start, this.#end));
    const taken = offerToHook(hook, error, this.socket, this.info, received, this.server.logger);
    if (taken === null) return false;
    // Stop serving as #shutdown does, but leave the ending to the hook.
    if (this.#state === State.Queued) this.server.pool.remove(this);
    this.#state = State.Closing;
    this.#queuedHead = null;
    if (this.#hasWorker) this.#releaseWorker();
    this.#buf = null;
    this.#start = this.#end = 0;
    this.#flushBatch();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    if (taken.isOpen()) this.server.monitor.arm(this, TimerKind.Linger, lingerMs(this.server.options, true));
    return true;
  }

  #sendError(status: number, detail: string | undefined, extraHeaders: string, isHead: boolean, about: Refused): void {
    const { bytes, bodyLength } = refusalBytes(this.server.options, status, detail, extraHeaders, isHead);
    this.send(bytes);
    accountRefusal(this.server, this.info, status, bodyLength, about, this.#headStarted);
    this.#shutdown();
  }

  /**
   * End our side and stop serving. Input is read and discarded for a little while, so a client
   * still sending (an upload we refused) gets to read our response rather than a reset.
   */
  #shutdown(): void {
    if (this.#state >= State.Closing) return;
    if (this.#state === State.Queued) this.server.pool.remove(this);
    this.#state = State.Closing;
    this.#settleExchange();
    this.#exchange?.kill(new Error('the connection is closing'));
    this.#exchange = null;
    this.#queuedHead = null;
    if (this.#hasWorker) this.#releaseWorker();
    this.#buf = null;
    this.#start = this.#end = 0;
    this.#flushBatch();
    this.socket.end();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    // What is still queued goes out first, for as long as the client keeps reading; the linger
    // starts once it is all sent ('finish').
    this.#armWrite();
  }

  /**
   * Cut the connection off in the middle of a response: what was sent before it (earlier
   * pipelined responses, part of this one) goes out, and the client sees the response end early.
   */
  #abort(): void {
    this.#flushBatch();
    this.socket.destroy();
  }

  /**
   * The exchange ends without having been counted: a response cut off (the client left, the
   * server closed) is logged with what was sent; a request that got nothing at all is not, as
   * there is no status to tell.
   */
  #settleExchange(): void {
    const exchange = this.#exchange;
    if (exchange === null || exchange.accounted) return;
    if (exchange.response.committed) {
      accountExchange(this.server, this.info, exchange);
    } else {
      exchange.accounted = true;
      this.server.metrics.inFlight--;
    }
  }

  /** A deadline fired: counted, and told on the Rocket.Monitor channel. */
  #timedOut(what: string): void {
    this.server.metrics.timeouts++;
    this.server.logs.monitor.debug(`connection ${this.info.id} (${this.info.remoteAddress}): ${what}`);
  }

  /**
   * No request came in time: close — with a 408 first for a new connection that never sent one,
   * when the server answers those (idle408); a keep-alive connection going idle is just closed.
   */
  #closeIdle(): void {
    if (this.server.options.idle408 && this.#requests === 0) this.#reject(new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'no request arrived in time'));
    else this.#shutdown();
  }

  /** Close now, whatever is in flight. */
  destroy(): void {
    this.socket.destroy();
  }

  onTimeout(kind: TimerKind): void {
    this.#guard(function (this: Connection) {
      switch (kind) {
        case TimerKind.Idle:
          this.#closeWhenQuiet();
          return;
        case TimerKind.Head:
          if (this.#state !== State.Head) return;
          // Nothing of a request arrived: close. Part of one did: tell the client why.
          if (this.#start === this.#end) {
            this.#closeWhenQuiet();
            return;
          }
          this.#timedOut('the request head did not arrive in time');
          this.#reject(new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'the request head did not arrive in time'));
          return;
        case TimerKind.Queue:
          if (this.#state !== State.Queued) return;
          this.#timedOut('no worker became free in time');
          this.#reject(new HttpError(503, 'ROCKET_ERR_OVERLOADED', 'no worker became free in time, retry later'));
          return;
        case TimerKind.Body:
          if (this.#state !== State.Exchange) return;
          this.#timedOut('the request body did not arrive in time');
          this.#reject(new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'the request body did not arrive in time'));
          return;
        case TimerKind.Write: {
          const left = this.socket.writableLength;
          // Progress is fewer bytes queued, or — while one large write is in flight, which the
          // stream counts as a whole until it is done — fewer of its bytes left for the kernel.
          if (left > 0 && (left < this.#writeMark || unsentOnWire(this.socket) < this.#wireMark)) {
            // Slow, but reading: another period.
            this.#armWrite();
            return;
          }
          if (left === 0 && this.#state !== State.Closing) {
            this.#updateTimer(false);
            return;
          }
          this.#timedOut('the client stopped reading its response');
          this.socket.destroy();
          return;
        }
        case TimerKind.Linger:
          this.socket.destroy();
          return;
      }
    });
  }

  #closed(): void {
    if (this.#state === State.Queued) this.server.pool.remove(this);
    this.#state = State.Closed;
    this.server.monitor.cancel(this);
    this.#idleClose?.cancel();
    if (this.#hasWorker) this.#releaseWorker();
    this.#settleExchange();
    this.#exchange?.kill(this.#socketError ?? Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }));
    this.#exchange = null;
    this.#queuedHead = null;
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
    let deadline: number;
    const now = Date.now();
    switch (this.#state) {
      case State.Head:
        if (this.#awaitingDrain) {
          if (this.timerKind === TimerKind.Write && this.timerSlot !== -1) return;
          this.#armWrite();
          return;
        }
        if (this.#start !== this.#end || this.#requests === 0) {
          // Inactivity while a head arrives, and a deadline for the whole head from its first byte.
          kind = TimerKind.Head;
          deadline = headDeadline(options, now, this.#headStarted);
        } else {
          kind = TimerKind.Idle;
          deadline = idleDeadline(options, now);
        }
        break;
      case State.Queued:
        // The wait for a worker is counted from when it began, whatever the client sends meanwhile.
        if (this.timerKind === TimerKind.Queue && this.timerSlot !== -1) return;
        kind = TimerKind.Queue;
        deadline = queueDeadline(options, now);
        activity = true;
        break;
      case State.Exchange: {
        if (this.timerKind === TimerKind.Write && this.timerSlot !== -1) return;
        const exchange = this.#exchange!;
        if (!exchange.awaitingBody) {
          monitor.cancel(this);
          return;
        }
        kind = TimerKind.Body;
        deadline = bodyDeadline(options, now, this.#requestStarted);
        // Draining what the app left unread has one deadline in all, however the bytes trickle.
        if (exchange.discarding && this.timerKind === TimerKind.Body && this.timerSlot !== -1) return;
        break;
      }
      default:
        return;
    }
    if (!activity && this.timerSlot !== -1 && this.timerKind === kind) return;
    if (deadline === Infinity) monitor.cancel(this);
    else monitor.armAt(this, kind, deadline);
  }

  /** Pause the socket while unread input piles up; resume when it is wanted again. */
  #updateFlow(): void {
    let pause = false;
    if (this.#state === State.Queued || this.#awaitingDrain) {
      pause = true;
    } else if (this.#state === State.Exchange) {
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
