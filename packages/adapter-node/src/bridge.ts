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
 * 2. `res` gets the connection's {@link BridgeSocket} (made at its first request, kept until it
 *    closes) — at once, or when the response of the pipelined request before it has finished.
 *    Node serialises the response onto it, and the {@link ResponseParser} turns what Node wrote
 *    into calls on `rocket.response`: Node's own head goes on as it is, already validated, and
 *    the server frames the body for its own connection.
 * 3. The request is dispatched in its own async scope: `'checkContinue'` or `'request'` on a
 *    server (`'upgrade'` with the socket handed over), or the listener itself.
 * 4. On `'finish'`, as node:http's resOnFinish: an unread body is dumped (the server drains it),
 *    `res` lets go of the socket, `res 'close'` follows on the next tick, and the next response
 *    in line takes the socket.
 * 5. If the client goes away first, the socket closes (so `res` closes without `'finish'`), and
 *    `req` is destroyed with an `ECONNRESET` "aborted" error. If the app destroys the socket or
 *    `res` before the response is complete, the connection is cut: the client sees a truncated
 *    response.
 *
 * The private parts of Node's objects this touches are all in `node-internals.ts`.
 */

import { AsyncResource } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionInfo, Environ, GatewayApp, PreparedHead, ResponseChannel, WsgiInput } from '@rocketserver/core';
import { BridgeSocket, type SocketUser } from './bridge-socket.js';
import {
  addHeaderLines,
  currentResponse,
  markConsuming,
  releaseResponse,
  responseDrained,
  serialisedHead,
  setUniqueHeaders,
  type InternalRequest,
  type InternalResponse,
} from './node-internals.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';

/** A Node request listener: `(req, res) => …`, what `http.createServer()` takes. */
export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

type Upgrade = () => { socket: Socket; head: Buffer };

/** `wsgi.input` as the server makes it: see `readChunkNow` in the core's body. */
type BodyInput = WsgiInput & { readChunkNow?(): Buffer | null | undefined };

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
  /** `createServer({ IncomingMessage, ServerResponse })`: the classes requests and responses are made of. */
  readonly IncomingMessage?: typeof http.IncomingMessage;
  readonly ServerResponse?: typeof http.ServerResponse;
  /** `createServer({ uniqueHeaders })`, as Node's server keeps it for each response. */
  readonly uniqueHeaders?: unknown;
}

const kBridged = Symbol('rocket.bridged');
const kSocket = Symbol('rocket.bridgeSocket');
type Bridged = { [kBridged]?: BridgedRequest };
type Internals = InternalRequest & Bridged;

const requestStart = diagnostics.channel('http.server.request.start');
const responseFinish = diagnostics.channel('http.server.response.finish');

/** The connection's bridge socket, made at its first bridged request (or when a server announces the connection). */
export function connectionSocket(info: ConnectionInfo): BridgeSocket {
  const holder = info as ConnectionInfo & { [kSocket]?: BridgeSocket };
  let socket = holder[kSocket];
  if (socket === undefined) {
    socket = new BridgeSocket(info);
    holder[kSocket] = socket;
    socket.on('drain', onSocketDrain);
    // node:http's server listens for socket errors; without a listener `res.destroy(err)` would
    // be an uncaught exception.
    socket.on('error', onSocketError);
    socket.on('timeout', onSocketTimeout);
    const closing = socket;
    info.onClose(() => closing.destroy());
  }
  return socket;
}

/**
 * One bridged request: the response sink for the parser, the socket's user while its response
 * writes, and what `req._read` pulls from.
 */
class BridgedRequest implements ResponseSink, SocketUser {
  readonly out: ResponseChannel;
  readonly socket: BridgeSocket;
  readonly req: Internals;
  readonly res: InternalResponse & Bridged;
  readonly dispatcher: Dispatcher;
  readonly environ: Environ;
  readonly parser: ResponseParser;
  #body: AsyncIterator<Buffer> | null = null;
  /** res emitted 'finish': node:http no longer counts `req` as in flight, so nothing aborts it. */
  finished = false;
  #reading = false;
  /** The body can be taken from `wsgi.input` without waiting (see read()); decided at the first read. */
  #readNow: boolean | null = null;
  /** The final head went out with nothing after it in the same write: send it now. */
  #headPending = false;

  constructor(environ: Environ, dispatcher: Dispatcher) {
    this.environ = environ;
    this.dispatcher = dispatcher;
    this.out = environ['rocket.response'];
    const socket = connectionSocket(environ['rocket.connection']);
    this.socket = socket;
    const req = createRequest(environ, socket, dispatcher.IncomingMessage) as Internals;
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
    const res = new (dispatcher.ServerResponse ?? http.ServerResponse)(req) as unknown as InternalResponse & Bridged;
    if (dispatcher.uniqueHeaders != null) setUniqueHeaders(res, dispatcher.uniqueHeaders);
    res[kBridged] = this;
    this.res = res;
    this.parser = new ResponseParser(this, req.method === 'HEAD');
    socket.enqueue(this);
    // Our 'finish' listener runs first, as node:http's own does.
    res.on('finish', onResponseFinish);
    this.out.onClose((reason) => this.clientGone(reason));
  }

  get bytesSent(): number {
    return this.out.bytesWritten;
  }

  /** The response's turn to write: it takes the socket, as node:http's assignSocket. */
  attach(): void {
    const socket = this.socket;
    socket.current = this;
    this.res.assignSocket(socket as unknown as Socket);
    if (this.dispatcher.timeout > 0) socket.setTimeout(this.dispatcher.timeout);
  }

  /**
   * Pull body chunks into `req` (its `_read`): what has arrived at once, as node:http's parser
   * pushes what it has read, then the next chunk when it comes.
   */
  read(): void {
    if (this.#reading) return;
    const input = this.environ['wsgi.input'] as BodyInput;
    // The server's own input can be read without waiting; one a middleware replaced or patched
    // (its own async iterator) is iterated, so whatever it does to the body applies.
    this.#readNow ??= input.readChunkNow !== undefined && !Object.hasOwn(input, Symbol.asyncIterator);
    while (this.#readNow) {
      let chunk: Buffer | null | undefined;
      try {
        chunk = input.readChunkNow!();
      } catch (error) {
        // An object made from the server's input (`Object.create`) is not one: iterate it.
        if (error instanceof TypeError) {
          this.#readNow = false;
          break;
        }
        // As an error from the iterator would: after this turn.
        queueMicrotask(() => this.#bodyFailed(error));
        return;
      }
      if (chunk === undefined) break;
      if (!this.#pushBody(chunk)) return;
    }
    this.#reading = true;
    this.#body ??= input[Symbol.asyncIterator]();
    this.#body.next().then(
      (result) => {
        this.#reading = false;
        if (this.#pushBody(result.done === true ? null : result.value)) this.read();
      },
      (error: unknown) => {
        this.#reading = false;
        this.#bodyFailed(error);
      },
    );
  }

  /** Push a body chunk (null: the end) into `req`; true if it wants more. */
  #pushBody(chunk: Buffer | null): boolean {
    const req = this.req;
    if (chunk === null) {
      req.complete = true;
      const trailers = this.environ['rocket.trailers'] as string[] | undefined;
      if (trailers !== undefined) addHeaderLines(req, trailers);
      req.push(null);
      return false;
    }
    this.socket.bytesRead += chunk.length;
    this.socket.touch();
    return req.push(chunk);
  }

  #bodyFailed(error: unknown): void {
    // After the response, a body the server stopped draining (a client that left, or one past
    // maxDrainSize) just stops: the dumped `req` never ends, as on node:http when the body never
    // arrives.
    if (!this.finished) this.clientGone(error);
  }

  // ---- ResponseSink: what Node wrote ----

  nodeHead(): string | null {
    return serialisedHead(this.res);
  }

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

  prepared(head: PreparedHead): void {
    try {
      // `res.sendDate = false`: Node wrote no Date, and the server adds none either.
      this.out.startPrepared(this.res.sendDate ? head : { ...head, hasDate: true });
    } catch (error) {
      // A status the server cannot send as a final one (writeHead(100)): the app's error.
      this.out.fail(error);
      return;
    }
    this.#headPending = true;
  }

  body(chunk: Buffer | string): boolean {
    this.#headPending = false;
    return this.out.write(chunk);
  }

  whole(chunk: Buffer | string): void {
    this.#headPending = false;
    this.out.sendAll([chunk]);
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

  /**
   * Node has written all of the response: a body delimited by the end (no length, not chunked)
   * ends here; one that is shorter than it said cuts the connection.
   */
  completed(): void {
    const parser = this.parser;
    if (parser.done) return;
    try {
      parser.finish();
    } catch (error) {
      this.aborted(error as Error);
    }
  }

  // ---- SocketUser ----

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
    if (socket.closed || socket.isWaiting(this)) {
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
  markConsuming(this);
  this[kBridged]!.read();
}

function onResponseFinish(this: InternalResponse & Bridged): void {
  const bridged = this[kBridged]!;
  bridged.finished = true;
  const socket = bridged.socket;
  if (responseFinish.hasSubscribers) {
    responseFinish.publish({ request: bridged.req, response: this, socket, server: bridged.dispatcher.server });
  }
  if (socket.current !== bridged) return;
  bridged.completed();
  releaseResponse(bridged.req, this, socket as unknown as Socket);
  socket.release();
}

function onSocketError(this: BridgeSocket): void {
  // The connection is cut by the socket's _destroy; the error itself was the app's to handle.
}

/** The client read enough: tell `res`, as node:http's socketOnDrain does. */
function onSocketDrain(this: BridgeSocket): void {
  const res = currentResponse(this);
  if (res !== null) responseDrained(res);
}

/** node:http's socketOnTimeout: tell req, res and the server; with nobody listening, close. */
function onSocketTimeout(this: BridgeSocket): void {
  const res = currentResponse(this) as (http.ServerResponse & Bridged) | null;
  const bridged = res?.[kBridged];
  const req = bridged?.req;
  const reqTimeout = req !== undefined && !req.complete && req.emit('timeout', this);
  const resTimeout = res !== null && res.emit('timeout', this);
  const serverTimeout = bridged?.dispatcher.timedOut(this) ?? false;
  if (!reqTimeout && !resTimeout && !serverTimeout) this.destroy();
}

/** A genuine IncomingMessage for the request `environ` describes. */
function createRequest(environ: Environ, socket: Socket | BridgeSocket, Request = http.IncomingMessage): http.IncomingMessage {
  const req = new Request(socket as Socket) as Internals;
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
  addHeaderLines(req, raw);
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
  const app: GatewayApp = (environ) => {
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
    // As node:http, the requests of a connection run in the async scope made for it.
    bridged.socket.asyncScope.runInAsyncScope(dispatch, null, bridged);
    return environ['rocket.response'] as never;
  };
  // `req` gets its headers from the raw fields: the server need not make an HTTP_* key of each.
  app.rawHeadersOnly = true;
  return app;
}

/** The value of the request's Expect field (repeated ones joined), or null. */
function expectField(raw: readonly string[]): string | null {
  let value: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 6 && name.toLowerCase() === 'expect') value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}

function dispatch(bridged: BridgedRequest): void {
  const { req, res, dispatcher } = bridged;
  if (requestStart.hasSubscribers) {
    requestStart.publish({ request: req, response: res, socket: bridged.socket, server: dispatcher.server });
  }
  // Read from the raw fields: `req.headers` is built only when the app asks for it.
  const expect = expectField(bridged.environ['rocket.raw_headers']);
  if (expect !== null && /^\s*100-continue\s*$/i.test(expect) && dispatcher.checkContinue(req, res)) return;
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
