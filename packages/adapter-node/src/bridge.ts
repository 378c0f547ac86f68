/**
 * The bridge: a gateway app that runs a Node request listener. For each request it builds a
 * genuine `http.IncomingMessage` and `http.ServerResponse` — Express swaps their prototypes, so
 * nothing of ours may live on a subclass prototype — wires them to the request as the core has
 * it, and replicates what Node's HTTP server does around them.
 *
 * The life of a bridged request
 * -----------------------------
 * 1. `req` gets the raw target as `url`, the raw header pairs (Node applies its own rules for
 *    duplicates), and an own `_read` that pulls the body from `wsgi.input` with backpressure.
 * 2. `res` gets a {@link BridgeSocket}: Node serialises the response onto it, and the
 *    {@link ResponseParser} turns those bytes back into calls on `rocket.response` — so the
 *    server frames the response for its own connection.
 * 3. The request is dispatched in its own async scope: `'checkContinue'` or `'request'` on a
 *    server (`'upgrade'` with the socket handed over), or the listener itself.
 * 4. On `'finish'`, an unread body is dumped (the server drains it), and on the next tick the
 *    bridge socket is destroyed, which makes Node emit `res 'close'` — after every `'finish'`
 *    listener, as on node:http.
 * 5. If the client goes away first, `req` is destroyed with an `ECONNRESET` "aborted" error and
 *    the socket too, so `res` closes without `'finish'`. If the app destroys the socket or `res`
 *    before the response is complete, the connection is cut: the client sees a truncated response.
 */

import { AsyncResource } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionInfo, Environ, GatewayApp, WsgiInput } from '@rocketserver/core';
import { BridgeSocket, type BridgeSocketSink } from './bridge-socket.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';

/** A Node request listener: `(req, res) => …`, what `http.createServer()` takes. */
export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** The `rocket.response` calls the bridge uses. */
interface ResponseChannel {
  startWith(code: number, reason: string, headers: readonly string[]): void;
  informational(code: number, reason: string, headers?: readonly string[]): void;
  write(chunk: Uint8Array): boolean;
  flush(): void;
  end(trailers?: readonly string[]): void;
  abort(reason?: unknown): void;
  drained(): Promise<void>;
  onClose(listener: (reason: unknown) => void): void;
}

type Upgrade = () => { socket: Socket; head: Buffer };

/** Where bridged requests go: a server's events, or a plain listener. */
export interface Dispatcher {
  readonly server: http.Server | null;
  request(req: http.IncomingMessage, res: http.ServerResponse): void;
  /** True if the server handles `Expect: 100-continue` itself (`'checkContinue'` listeners). */
  checkContinue(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** True if the server takes upgrades (`'upgrade'` listeners). */
  wantsUpgrade(): boolean;
  upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void;
  /** Milliseconds of inactivity after which a request's socket times out (`server.timeout`); 0 = never. */
  readonly timeout: number;
  /** Tell the server a socket timed out; true if anyone listened. */
  timedOut(socket: BridgeSocket): boolean;
}

const kBridged = Symbol('rocket.bridged');
type Bridged = { [kBridged]?: BridgedRequest };
type Internals = http.IncomingMessage & Bridged & {
  _addHeaderLines(headers: string[], n: number): void;
  _consuming: boolean;
  _dump(): void;
  _dumped?: boolean;
};

const requestStart = diagnostics.channel('http.server.request.start');
const responseFinish = diagnostics.channel('http.server.response.finish');

/** Node's private "a 'drain' is owed" flag on a response, found by its description. */
const kNeedDrain: symbol | undefined = (() => {
  const req = new http.IncomingMessage(null as unknown as Socket);
  return Object.getOwnPropertySymbols(new http.ServerResponse(req)).find((s) => s.description === 'kNeedDrain');
})();

/**
 * One bridged request: the response sink for the parser, the sink of the bridge socket, and what
 * `req._read` pulls from.
 */
class BridgedRequest implements ResponseSink, BridgeSocketSink {
  readonly out: ResponseChannel;
  readonly socket: BridgeSocket;
  readonly req: Internals;
  readonly res: http.ServerResponse & Bridged;
  readonly dispatcher: Dispatcher;
  readonly environ: Environ;
  #body: AsyncIterator<Buffer> | null = null;
  /** res emitted 'finish': node:http no longer counts `req` as in flight, so nothing aborts it. */
  finished = false;
  #reading = false;
  /** The final head went out with nothing after it in the same write: send it now. */
  #headPending = false;

  constructor(environ: Environ, dispatcher: Dispatcher) {
    this.environ = environ;
    this.dispatcher = dispatcher;
    this.out = environ['rocket.response'] as ResponseChannel;
    const socket = new BridgeSocket(environ['rocket.connection'], this);
    this.socket = socket;
    const req = createRequest(environ, socket) as Internals;
    req[kBridged] = this;
    this.req = req;
    const input = environ['wsgi.input'] as WsgiInput & { ended?: boolean; buffered?: number };
    if (input.ended === true && input.buffered === 0) {
      // No body (or an empty one): `'end'` comes as soon as someone reads, as on node:http.
      req.complete = true;
      req.push(null);
    } else {
      req._read = readBody;
    }
    const res = new http.ServerResponse(req) as http.ServerResponse & Bridged;
    res[kBridged] = this;
    // Our 'finish' listener runs first, as node:http's own does.
    res.on('finish', onResponseFinish);
    res.assignSocket(socket as unknown as Socket);
    this.res = res;
    socket.parser = new ResponseParser(this, req.method === 'HEAD');
    socket.on('drain', onSocketDrain);
    // node:http's server listens for socket errors; without a listener `res.destroy(err)` would
    // be an uncaught exception.
    socket.on('error', onSocketError);
    if (dispatcher.timeout > 0) socket.setTimeout(dispatcher.timeout);
    socket.on('timeout', onSocketTimeout);
    this.out.onClose((reason) => this.clientGone(reason));
  }

  /** Pull the next body chunk into `req` (its `_read`). */
  read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#body ??= (this.environ['wsgi.input'] as WsgiInput)[Symbol.asyncIterator]();
    this.#body.next().then(
      (result) => {
        this.#reading = false;
        const req = this.req;
        if (result.done) {
          req.complete = true;
          const trailers = this.environ['rocket.trailers'] as string[] | undefined;
          if (trailers !== undefined) req._addHeaderLines(trailers, trailers.length);
          req.push(null);
          return;
        }
        this.socket.bytesRead += result.value.length;
        this.socket.touch();
        if (req.push(result.value)) this.read();
      },
      (error: unknown) => {
        this.#reading = false;
        // After the response, a body the server stopped draining (a client that left, or one
        // past maxDrainSize) just stops: the dumped `req` never ends, as on node:http when the
        // body never arrives.
        if (!this.finished) this.clientGone(error);
      },
    );
  }

  // ---- ResponseSink: what Node wrote ----

  informational(code: number, reason: string, headers: string[]): void {
    this.out.informational(code, reason, headers);
  }

  head(code: number, reason: string, headers: string[], close: boolean): void {
    if (close) headers.push('Connection', 'close');
    this.out.startWith(code, reason, headers);
    // Node writes a head alone for flushHeaders() — and also just before a body it sends in a
    // separate write. Only the first must go out as it is: see written().
    this.#headPending = true;
  }

  body(chunk: Buffer): boolean {
    this.#headPending = false;
    return this.out.write(chunk);
  }

  end(trailers: string[] | null): void {
    this.#headPending = false;
    this.out.end(trailers ?? undefined);
  }

  /** A head that came alone and stayed alone for the rest of the turn (`flushHeaders()`) goes out. */
  flushPendingHead(): void {
    if (this.#headPending) {
      this.#headPending = false;
      this.out.flush();
    }
  }

  // ---- BridgeSocketSink ----

  written(): void {
    // A head that came without its body waits for the rest of this turn.
    if (this.#headPending) process.nextTick(flushPendingHead, this);
  }

  drained(): Promise<void> {
    return this.out.drained();
  }

  aborted(error: Error | null): void {
    this.out.abort(error ?? new Error('the response was destroyed before it was complete'));
  }

  /**
   * The client went away before the response was complete: as on node:http, the socket closes
   * first (so `res` closes without `'finish'`, and whatever the app still writes goes nowhere),
   * then `req` is aborted (`'aborted'`, an `ECONNRESET` error if someone listens, `'close'`).
   */
  clientGone(reason: unknown): void {
    if (this.finished) return;
    const socket = this.socket;
    if (socket.closed) {
      this.abortRequest(reason);
      return;
    }
    // node:http's server hears of the close before the response does (its listener came first).
    // A response that finishes meanwhile has let go of its request, as on node:http.
    socket.prependOnceListener('close', () => {
      if (!this.finished) this.abortRequest(reason);
    });
    socket.destroy(socketError(reason));
  }

  abortRequest(reason: unknown): void {
    const req = this.req;
    if (req.destroyed) return;
    const error = reason instanceof Error && (reason as NodeJS.ErrnoException).code === 'ECONNRESET'
      ? reason
      : Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    // IncomingMessage emits 'aborted' and 'close', and 'error' only if someone listens for it.
    req.destroy(error);
  }
}

/**
 * What node:http's socket would have reported as its `'error'` when the client left this way: the
 * system error of a reset or a broken pipe, or its parser's complaint when the client ended its
 * side in the middle of a body. A client that just closed is no error.
 */
function socketError(reason: unknown): Error | undefined {
  const error = reason as NodeJS.ErrnoException | null;
  if (error?.code === 'ROCKET_ERR_INCOMPLETE_BODY') {
    return Object.assign(new Error('Parse Error: Invalid EOF state'), { code: 'HPE_INVALID_EOF_STATE', reason: 'Invalid EOF state' });
  }
  if (error instanceof Error && typeof error.syscall === 'string') return error;
  return undefined;
}

function flushPendingHead(bridged: BridgedRequest): void {
  bridged.flushPendingHead();
}

function readBody(this: Internals): void {
  this._consuming = true;
  this[kBridged]!.read();
}

function onResponseFinish(this: http.ServerResponse & Bridged): void {
  const bridged = this[kBridged]!;
  bridged.finished = true;
  const req = bridged.req;
  // node:http dumps a body nobody read; the server drains it from the connection itself.
  if (!req._consuming && !(req as unknown as { _readableState: { resumeScheduled: boolean } })._readableState.resumeScheduled) req._dump();
  if (responseFinish.hasSubscribers) {
    responseFinish.publish({ request: req, response: this, socket: bridged.socket, server: bridged.dispatcher.server });
  }
  // Destroying the socket a tick later makes Node emit res 'close' after every 'finish' listener.
  process.nextTick(destroySocket, bridged.socket);
}

function onSocketError(this: BridgeSocket): void {
  // The connection is cut by the socket's _destroy; the error itself was the app's to handle.
}

function destroySocket(socket: BridgeSocket): void {
  socket.destroy();
}

/** The client read enough: tell `res`, as node:http's socketOnDrain does. */
function onSocketDrain(this: BridgeSocket): void {
  const res = (this as unknown as { _httpMessage?: http.ServerResponse })._httpMessage as (http.ServerResponse & Record<symbol, unknown>) | undefined;
  if (res === undefined || res.finished || res.destroyed) return;
  if (kNeedDrain === undefined) {
    if (res.writableNeedDrain) res.emit('drain');
  } else if (res[kNeedDrain] === true) {
    res[kNeedDrain] = false;
    res.emit('drain');
  }
}

/** node:http's socketOnTimeout: tell req, res and the server; with nobody listening, close. */
function onSocketTimeout(this: BridgeSocket): void {
  const res = (this as unknown as { _httpMessage?: http.ServerResponse & Bridged })._httpMessage;
  const bridged = res?.[kBridged];
  const req = bridged?.req;
  const reqTimeout = req !== undefined && !req.complete && req.emit('timeout', this);
  const resTimeout = res !== undefined && res.emit('timeout', this);
  const serverTimeout = bridged?.dispatcher.timedOut(this) ?? false;
  if (!reqTimeout && !resTimeout && !serverTimeout) this.destroy();
}

/** A genuine IncomingMessage for the request `environ` describes. */
function createRequest(environ: Environ, socket: Socket | BridgeSocket): http.IncomingMessage {
  const req = new http.IncomingMessage(socket as Socket) as Internals;
  req.method = environ.REQUEST_METHOD;
  // The target exactly as sent: not decoded, not normalised (routers and signatures depend on it);
  // under a mount point, without the segments of the mount point.
  req.url = environ.SCRIPT_NAME === '' ? environ.REQUEST_URI : stripMountPoint(environ.REQUEST_URI, environ.SCRIPT_NAME);
  const minor = environ.SERVER_PROTOCOL === 'HTTP/1.0' ? 0 : 1;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = minor;
  req.httpVersion = minor === 0 ? '1.0' : '1.1';
  const raw = environ['rocket.raw_headers'] as string[];
  // Node's own header bookkeeping: rawHeaders, and lazily `headers` with its duplicate rules.
  req._addHeaderLines(raw, raw.length);
  return req;
}

/**
 * The raw target without as many leading path segments as the mount point (`SCRIPT_NAME`) has.
 * Segments line up between the decoded SCRIPT_NAME and the raw target because an encoded `/`
 * stays encoded in PATH_INFO.
 */
export function stripMountPoint(target: string, scriptName: string): string {
  if (!target.startsWith('/')) return target;
  let segments = 0;
  for (let i = 0; i < scriptName.length; i++) if (scriptName.charCodeAt(i) === 0x2f) segments++;
  let end = target.indexOf('?');
  if (end === -1) end = target.length;
  let pos = 0;
  for (let k = 0; k < segments && pos < end; k++) {
    const next = target.indexOf('/', pos + 1);
    pos = next === -1 || next > end ? end : next;
  }
  const rest = target.slice(pos);
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

/**
 * A gateway app that runs `dispatcher`'s requests through genuine Node request and response
 * objects.
 */
export function bridgeApp(dispatcher: Dispatcher): GatewayApp {
  return (environ) => {
    const upgrade = environ['rocket.upgrade'] as Upgrade | undefined;
    if (upgrade !== undefined && dispatcher.wantsUpgrade()) {
      const { socket, head } = upgrade();
      const req = createRequest(environ, socket) as http.IncomingMessage & { upgrade: boolean };
      req.upgrade = true;
      req.complete = true;
      req.push(null);
      new AsyncResource('HTTPINCOMINGMESSAGE').runInAsyncScope(() => dispatcher.upgrade(req, socket, head));
      return environ['rocket.response'] as never;
    }
    const bridged = new BridgedRequest(environ, dispatcher);
    new AsyncResource('HTTPINCOMINGMESSAGE').runInAsyncScope(dispatch, null, bridged);
    return environ['rocket.response'] as never;
  };
}

function dispatch(bridged: BridgedRequest): void {
  const { req, res, dispatcher } = bridged;
  if (requestStart.hasSubscribers) {
    requestStart.publish({ request: req, response: res, socket: bridged.socket, server: dispatcher.server });
  }
  const expect = req.headers.expect;
  if (expect !== undefined && /^\s*100-continue\s*$/i.test(expect) && dispatcher.checkContinue(req, res)) return;
  dispatcher.request(req, res);
}

/**
 * Turn a Node request listener into a gateway app.
 *
 * @example
 * import express from 'express';
 * const app = express();
 * new Rocket(['127.0.0.1', 3000], 'wsgi', { wsgi_app: toGateway(app) });
 */
export function toGateway(listener: RequestListener): GatewayApp {
  if (typeof listener !== 'function') throw new TypeError('toGateway() needs a request listener: (req, res) => …');
  return bridgeApp({
    server: null,
    request: listener,
    checkContinue: () => false,
    wantsUpgrade: () => false,
    upgrade: () => {},
    timeout: 0,
    timedOut: () => false,
  });
}

export type { ConnectionInfo };
