/**
 * `createServer()`: the surface of `http.createServer()`, served by a Rocket. The server object is
 * a genuine `http.Server` (libraries check `instanceof`, APM agents wrap its prototype's `emit`),
 * but Rocket binds, parses and frames; requests arrive through its events at request time, so
 * whatever rewires the `'request'` listeners (socket.io) or listens for `'upgrade'` (ws) works.
 */

import http from 'node:http';
import type { Socket } from 'node:net';
import { Rocket, type ClientErrorReply, type ConnectionInfo, type HttpError, type RocketOptions } from '@rocketserver/core';
import { bridgeApp, connectionSocket, type Dispatcher, type RequestListener } from './bridge.js';
import { uniqueHeadersOf } from './node-internals.js';
import type { BridgeSocket } from './bridge-socket.js';
import { ClientErrorSocket, clientError } from './client-error.js';

/**
 * `http.createServer` options, plus `rocket` for the server underneath (workers, limits,
 * logger…) and `tls` to serve HTTPS: Rocket's key, certificate and optional CA files (with a CA,
 * client certificates are requested, optional, and verified).
 */
export interface CreateServerOptions extends http.ServerOptions {
  rocket?: RocketOptions;
  tls?: { keyFile: string; certFile: string; caFile?: string };
}

/** The node:http properties that set Rocket's timeouts and limits, in Node's units. */
const LIVE_PROPERTIES = ['keepAliveTimeout', 'headersTimeout', 'requestTimeout', 'maxRequestsPerSocket', 'maxHeadersCount', 'maxConnections'] as const;

/**
 * An `http.Server` whose connections Rocket serves.
 *
 * @example
 * const server = createServer((req, res) => res.end('hello'));
 * server.listen(3000, () => console.log(server.address()));
 */
export class RocketServer extends http.Server {
  #rocket: Rocket | null = null;
  #listening = false;
  /** Set by `close()` until the Rocket has stopped: the server no longer counts as running. */
  #closing = false;
  /** The UNIX socket path given to `listen()`, which `address()` reports at once, as node:http does. */
  #path: string | null = null;
  readonly #rocketOptions: RocketOptions;
  readonly #tls: CreateServerOptions['tls'];
  readonly #values: Record<(typeof LIVE_PROPERTIES)[number], number | null | undefined>;
  readonly #app;

  constructor(options?: CreateServerOptions | RequestListener, listener?: RequestListener) {
    const given = typeof options === 'function' ? {} : (options ?? {});
    const requestListener = typeof options === 'function' ? options : listener;
    const { rocket, tls, ...httpOptions } = given;
    super(httpOptions);
    this.#tls = tls;
    // http.Server's own 'connection' and 'listening' listeners run Node's parser and its
    // connection checks; Rocket does that work, so they go.
    this.removeAllListeners('connection');
    this.removeAllListeners('listening');
    if (requestListener !== undefined) this.on('request', requestListener);
    // node:http's own Host check is off with requireHostHeader: false; Rocket's follows it.
    this.#rocketOptions = httpOptions.requireHostHeader === false ? { requireHost: false, ...rocket } : (rocket ?? {});
    const self = this as unknown as Record<string, number | null>;
    this.#values = {
      keepAliveTimeout: self.keepAliveTimeout ?? 5000,
      headersTimeout: self.headersTimeout ?? 60_000,
      requestTimeout: self.requestTimeout ?? 300_000,
      maxRequestsPerSocket: self.maxRequestsPerSocket ?? 0,
      maxHeadersCount: self.maxHeadersCount ?? null,
      maxConnections: self.maxConnections,
    };
    // Node keeps these as plain properties and reads them as it goes; here they are accessors that
    // reach into the running Rocket, so setting one later still takes effect.
    for (const name of LIVE_PROPERTIES) {
      delete self[name];
      Object.defineProperty(this, name, {
        configurable: true,
        enumerable: true,
        get: () => this.#values[name],
        set: (value: number | null | undefined) => {
          this.#values[name] = value;
          this.#applyOptions();
        },
      });
    }
    // supertest closes a server it started only when `_handle` is truthy.
    delete (this as unknown as Record<string, unknown>)._handle;
    Object.defineProperty(this, '_handle', { configurable: true, get: () => (this.#listening ? { rocket: true } : null) });
    const dispatcher: Dispatcher = {
      server: this,
      request: (req, res) => {
        this.emit('request', req, res);
      },
      checkContinue: (req, res) => {
        if (this.listenerCount('checkContinue') === 0) return false;
        this.emit('checkContinue', req, res);
        return true;
      },
      wantsUpgrade: () => this.listenerCount('upgrade') > 0,
      upgrade: (req, socket, head) => {
        this.emit('upgrade', req, socket, head);
      },
      get timeout() {
        return server.timeout;
      },
      timedOut: (socket: BridgeSocket) => this.emit('timeout', socket),
      IncomingMessage: httpOptions.IncomingMessage,
      ServerResponse: httpOptions.ServerResponse as typeof http.ServerResponse | undefined,
      uniqueHeaders: uniqueHeadersOf(this),
    };
    const server = this;
    this.#app = bridgeApp(dispatcher);
  }

  /** Rocket's options from node:http's properties (ms → s), plus `rocket` from the constructor. */
  #coreOptions(): RocketOptions {
    return {
      handleSignals: false,
      ...this.#liveOptions(),
      onClientError: (error, reply) => this.#clientError(error, reply),
      onConnection: (info) => this.#connection(info),
      // The addresses as net.Server gives them, which is what node:http's 'drop' carries.
      onDrop: (data) => this.emit('drop', data),
      ...this.#rocketOptions,
    };
  }

  /**
   * node:http's `'connection'` (and, on TLS, `'secureConnection'`) with the connection's socket —
   * made now only when someone listens; otherwise at the first request, as it costs memory.
   */
  #connection(info: ConnectionInfo): void {
    const listened = this.listenerCount('connection') > 0 || (info.tls !== null && this.listenerCount('secureConnection') > 0);
    if (!listened) return;
    const socket = connectionSocket(info);
    this.emit('connection', socket);
    if (info.tls !== null) this.emit('secureConnection', socket);
  }

  /** A request refused before it was dispatched goes to `'clientError'` listeners, if there are any. */
  #clientError(error: HttpError, reply: ClientErrorReply): boolean {
    // node:http answers a failed expectation itself (417), never through 'clientError'.
    if (this.listenerCount('clientError') === 0 || error.code === 'ROCKET_ERR_EXPECTATION_FAILED') return false;
    this.emit('clientError', clientError(error, reply.received), new ClientErrorSocket(reply));
    return true;
  }

  #applyOptions(): void {
    const rocket = this.#rocket;
    if (rocket === null) return;
    rocket.updateOptions(this.#liveOptions());
  }

  /** Rocket's options that node:http's properties set, in Rocket's units (ms → s). */
  #liveOptions(): RocketOptions {
    const v = this.#values;
    return {
      timeout: (v.keepAliveTimeout ?? 0) / 1000,
      headerTimeout: (v.headersTimeout ?? 0) / 1000,
      requestTimeout: (v.requestTimeout ?? 0) / 1000,
      maxRequestsPerConnection: v.maxRequestsPerSocket ?? 0,
      maxConnections: connectionLimit(v.maxConnections),
      ...(v.maxHeadersCount ? { maxHeaders: v.maxHeadersCount } : {}),
    };
  }

  /** The Rocket serving this server while it listens. */
  get rocket(): Rocket | null {
    return this.#rocket;
  }

  /** True while Rocket listens (also read as the `listening` property, as on node:http). */
  isListening(): boolean {
    return this.#listening;
  }

  /**
   * Listen as `net.Server.listen` does: `(port?, host?, backlog?, cb?)`, `(path, backlog?, cb?)` or
   * `(options, cb?)`, with `signal` (aborting it closes the server) and `ipv6Only`. The address
   * is known when this returns (for a numeric host or a path); `'listening'` follows, or `'error'`
   * if the interface cannot be bound.
   */
  override listen(...args: unknown[]): this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    if (this.#rocket !== null) {
      throw Object.assign(new Error('Listen method has been called more than once without closing.'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    }
    const target = listenTarget(args);
    if (callback !== undefined) this.once('listening', callback);
    this.#closing = false;
    this.#path = target.path;
    const options = this.#coreOptions();
    if (target.backlog !== undefined) options.backlog = target.backlog;
    if (target.ipv6Only) options.ipv6Only = true;
    const tls = this.#tls;
    const iface =
      target.path ??
      (tls === undefined
        ? [target.host, target.port]
        : [target.host, target.port, tls.keyFile, tls.certFile, ...(tls.caFile === undefined ? [] : [tls.caFile])]);
    const rocket = new Rocket(iface, 'wsgi', { wsgi_app: this.#app }, options);
    this.#rocket = rocket;
    rocket.start().then(
      () => {
        // close() before the bind completed (`app.listen(); server.close(done)`): node:http
        // never reports 'listening' then.
        if (this.#rocket !== rocket || this.#closing) return;
        this.#listening = true;
        this.emit('listening');
      },
      (error: Error) => {
        if (this.#rocket !== rocket) return;
        this.#rocket = null;
        if (this.#closing) return;
        this.emit('error', (error.cause as Error | undefined) ?? error);
      },
    );
    if (target.signal !== undefined) this.#closeOnAbort(target.signal);
    return this;
  }

  /** `listen({ signal })`: aborting closes the server, as net.Server does (already aborted: at once). */
  #closeOnAbort(signal: AbortSignal): void {
    const onAbort = () => this.close();
    if (signal.aborted) {
      process.nextTick(onAbort);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    this.once('close', () => signal.removeEventListener('abort', onAbort));
  }

  override address(): ReturnType<http.Server['address']> {
    // A UNIX socket's path, from listen() on and still after close(), as net.Server reports it.
    if (this.#path !== null) return this.#path;
    if (this.#rocket === null || this.#closing) return null;
    const bound = this.#rocket.addresses[0];
    if (bound === undefined) return null;
    if (bound.family === 'unix') return bound.host;
    return { address: bound.host, family: bound.family, port: bound.port };
  }

  /**
   * Stop accepting and close idle connections at once; requests in flight finish, and when the
   * last connection has closed `'close'` is emitted, `callback` being one of its listeners — the
   * order node:http has. A `close()` right after `listen()`, before the bind completed, closes the
   * server without a `'listening'`. A server that is not running emits `'close'` too, and its
   * callback gets `ERR_SERVER_NOT_RUNNING`, as on node:http.
   *
   * Unlike node:http, a connection busy with a request when `close()` is called is closed after
   * its response (which says `Connection: close`) instead of being kept alive until the client
   * leaves or `keepAliveTimeout` ends it, so `'close'` comes when the responses are done.
   */
  override close(callback?: (error?: Error) => void): this {
    const rocket = this.#rocket;
    const running = rocket !== null && !this.#closing;
    if (callback !== undefined) {
      if (running) this.once('close', callback);
      else this.once('close', () => callback(Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' })));
    }
    if (!running) {
      // A close() while another one drains gets its 'close' with that one.
      if (rocket === null) process.nextTick(() => this.emit('close'));
      return this;
    }
    this.#closing = true;
    this.#listening = false;
    rocket.stop().then(() => {
      if (this.#rocket === rocket) this.#rocket = null;
      this.#closing = false;
      this.emit('close');
    });
    return this;
  }

  override closeAllConnections(): void {
    this.#rocket?.closeConnections({ idleOnly: false });
  }

  override closeIdleConnections(): void {
    this.#rocket?.closeConnections({ idleOnly: true });
  }

  override getConnections(callback: (error: Error | null, count: number) => void): this {
    process.nextTick(callback, null, this.#rocket?.stats().connections.open ?? 0);
    return this;
  }

  override ref(): this {
    this.#rocket?.ref();
    return this;
  }

  override unref(): this {
    this.#rocket?.unref();
    return this;
  }
}

// node:http has `listening` as a getter on the prototype; ours reports Rocket's state.
Object.defineProperty(RocketServer.prototype, 'listening', {
  configurable: true,
  get(this: RocketServer) {
    return this.isListening();
  },
});

interface ListenTarget {
  host: string;
  port: number;
  path: string | null;
  backlog: number | undefined;
  signal?: AbortSignal;
  ipv6Only?: boolean;
}

/** `net.Server.listen`'s argument forms, normalised. */
function listenTarget(args: unknown[]): ListenTarget {
  const [first, second, third] = args;
  if (first !== null && typeof first === 'object') {
    const o = first as { port?: number | string; host?: string; path?: string; backlog?: number; signal?: AbortSignal; ipv6Only?: boolean };
    const signal = o.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw Object.assign(new TypeError('The "options.signal" property must be an instance of AbortSignal.'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const extra = { ...(signal === undefined ? {} : { signal }), ...(o.ipv6Only === true ? { ipv6Only: true } : {}) };
    if (o.path !== undefined) return { host: '', port: 0, path: o.path, backlog: o.backlog, ...extra };
    return { host: o.host ?? '', port: toPort(o.port), path: null, backlog: o.backlog, ...extra };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) {
    return { host: '', port: 0, path: first, backlog: typeof second === 'number' ? second : undefined };
  }
  if (typeof second === 'string') {
    return { host: second, port: toPort(first as number | string | undefined), path: null, backlog: typeof third === 'number' ? third : undefined };
  }
  return { host: '', port: toPort(first as number | string | undefined), path: null, backlog: typeof second === 'number' ? second : undefined };
}

/**
 * `server.maxConnections` as Rocket's option: net.Server takes any number and compares the count
 * of open connections with it, so unset, 0, NaN and Infinity all mean no limit, and a fraction
 * is the next whole number.
 */
function connectionLimit(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.ceil(value) : 0;
}

function toPort(port: number | string | undefined | null): number {
  if (port === undefined || port === null) return 0;
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw Object.assign(new RangeError(`options.port should be >= 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
  }
  return n;
}

/**
 * The same surface as `http.createServer()`, served by Rocket.
 *
 * @example
 * import { createServer } from '@rocketserver/adapter-node';
 * const server = createServer((req, res) => { res.setHeader('Content-Type', 'text/plain'); res.end('ok'); });
 * server.listen(3000);
 */
export function createServer(options?: CreateServerOptions | RequestListener, listener?: RequestListener): RocketServer {
  return new RocketServer(options, listener);
}

export type { Socket };
