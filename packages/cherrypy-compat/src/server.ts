/**
 * `CherryPyWSGIServer` (cheroot's `WSGIServer`): CherryPy's server API over a Rocket.
 *
 * The constructor takes CherryPy's parameters, positionally or as one keyword-style object; the
 * attributes ported code sets afterwards (on the instance or, as web.py and WsgiDAV do, on the
 * class) are read when they matter — TLS and the bind address at `start()`, everything else on
 * the next request of a running server. `start()` returns a promise that stands for Python's
 * blocking call: it settles when the server stops, and rejects with the interrupt (Ctrl-C comes
 * as a `KeyboardInterrupt`) when one stopped it.
 *
 * On the wire the server behaves as cheroot does where clients can tell: its short error
 * responses, no Connection header on a persistent HTTP/1.1 response, HTTP/1.0 keep-alive,
 * `100 Continue` at once, 408 for silent connections, `keep_alive_conn_limit`. Where cheroot
 * accepts what Rocket refuses for safety (Content-Length with chunked, obs-fold…), Rocket's
 * answer stands.
 */

import { mount, Rocket, VERSION, type Environ, type GatewayApp, type GatewayBody, type StartResponse } from '@rocketserver/core';
import { checkBindAddr, collectArgs, describeBindAddr, removeStaleSocket, type BindAddr, type ServerArgs, type WsgiApp } from './args.js';
import { isInterrupt, KeyboardInterrupt, SystemExit, type Interrupt } from './interrupts.js';
import { liveOptions, LOG_LEVELS, rocketInterface, rocketOptions } from './options.js';
import { SSLAdapter } from './ssl.js';
import { tlsEnviron, type TlsFacts } from './tls-environ.js';
import { appLevelRefusal, latin1Path } from './wire.js';

/** cheroot's `requests` (the thread pool), as far as a pool of Rocket workers has the numbers. */
export interface WorkerPoolView {
  readonly min: number;
  readonly max: number;
  readonly idle: number;
  readonly qsize: number;
}

/**
 * @example
 * const server = new CherryPyWSGIServer(['0.0.0.0', 8070], app, { server_name: 'www.example.com' });
 * try { await server.start(); } catch (error) { if (error instanceof KeyboardInterrupt) await server.stop(); }
 */
export class CherryPyWSGIServer {
  // ---- class-level defaults: `CherryPyWSGIServer.ssl_certificate = '…'` reaches every instance ----
  static version = `Rocket/${VERSION}`;
  static protocol: 'HTTP/1.1' | 'HTTP/1.0' = 'HTTP/1.1';
  static ssl_adapter: SSLAdapter | null = null;
  static ssl_certificate: string | null = null;
  static ssl_private_key: string | null = null;
  static ssl_certificate_chain: string | null = null;
  static nodelay = true;
  static max_request_header_size = 0;
  static max_request_body_size = 0;
  static keep_alive_conn_limit: number | null = 10;

  /** Python-style attributes ported code hangs on the server (`httpd.controller_queue = …`). */
  [extra: string]: unknown;

  numthreads: number;
  server_name: string | null;
  max: number;
  request_queue_size: number;
  shutdown_timeout: number;
  accepted_queue_size: number;
  accepted_queue_timeout: number;
  /** `SERVER_SOFTWARE`; set to `'<version> Server'` at start when null. */
  software: string | null = null;
  /** Stored for PasteScript, which sets it; the adapter decides. */
  ssl_module: string | null = null;
  /** Extra entries for every request's environ (CherryPy 3.0/3.1); the request's own keys win. */
  environ: Record<string, unknown> = {};
  /** True while the server listens. */
  ready = false;
  /** SIGINT stops the server with a `KeyboardInterrupt`, SIGTERM stops it gracefully, while it runs. */
  handle_signals = true;
  readonly stats: Record<string, unknown>;
  readonly requests: WorkerPoolView;

  #bindAddr: BindAddr;
  #app: GatewayApp | null = null;
  #timeout: number;
  #own: Partial<Record<ClassDefault, unknown>> = {};
  #rocket: Rocket | null = null;
  #stopping: Promise<void> | null = null;
  #interrupt: Error | null = null;
  #served: Promise<void> | null = null;
  #settle: ((error: Error | null) => void) | null = null;
  #startedAt = 0;
  #signals: { int: () => void; term: () => void } | null = null;

  /** Every parameter by name: `new CherryPyWSGIServer({ bind_addr, wsgi_app, numthreads: 50 })`. */
  constructor(args: ServerArgs);
  /**
   * CherryPy's positional order — `(bind_addr, wsgi_app, numthreads, server_name, max,
   * request_queue_size, timeout, shutdown_timeout, accepted_queue_size, accepted_queue_timeout)` —
   * optionally ending with an object of the rest by name (Python's keyword arguments).
   */
  constructor(bind_addr: BindAddr, wsgi_app?: WsgiApp | Partial<ServerArgs>, ...rest: (number | string | null | Partial<ServerArgs> | undefined)[]);
  constructor(...values: unknown[]) {
    const args = collectArgs(values);
    if (args.bind_addr === undefined) throw new TypeError("CherryPyWSGIServer() missing required argument: 'bind_addr'");
    if (args.peercreds_enabled === true || args.peercreds_resolve_enabled === true) {
      throw new TypeError('peercreds_enabled: UNIX peer credentials (SO_PEERCRED) cannot be read by a Node server');
    }
    if (args.reuse_port === true) throw new TypeError('reuse_port: SO_REUSEPORT is not supported by this server');
    this.#bindAddr = checkBindAddr(args.bind_addr);
    this.wsgi_app = args.wsgi_app ?? null;
    this.numthreads = args.numthreads ?? 10;
    this.server_name = args.server_name ?? null;
    this.max = args.max ?? -1;
    this.request_queue_size = args.request_queue_size ?? 5;
    this.#timeout = args.timeout ?? 10;
    this.shutdown_timeout = args.shutdown_timeout ?? 5;
    this.accepted_queue_size = args.accepted_queue_size ?? -1;
    this.accepted_queue_timeout = args.accepted_queue_timeout ?? 10;
    this.stats = this.#makeStats();
    const server = this;
    this.requests = {
      get min() {
        return Math.max(1, Math.trunc(server.numthreads) || 1);
      },
      get max() {
        return server.max > 0 ? server.max : -1;
      },
      get idle() {
        const pool = server.#rocket?.stats().pool;
        return pool === undefined ? 0 : pool.threads - pool.busy;
      },
      get qsize() {
        return server.#rocket?.stats().pool.queued ?? 0;
      },
    };
  }

  // ---- attributes read live ----

  /** The app; may be assigned (or changed) while the server runs. */
  get wsgi_app(): GatewayApp | null {
    return this.#app;
  }

  set wsgi_app(app: WsgiApp) {
    if (Array.isArray(app)) this.#app = WSGIPathInfoDispatcher(app as readonly (readonly [string, GatewayApp])[]);
    else if (app === null || typeof app === 'function') this.#app = app as GatewayApp | null;
    else throw new TypeError('wsgi_app must be a WSGI callable, a list of [path_prefix, app] pairs, or null');
  }

  /** Seconds a connection may be silent: while a request arrives (then 408) and between requests. */
  get timeout(): number {
    return this.#timeout;
  }

  set timeout(seconds: number) {
    this.#timeout = seconds;
    this.#apply();
  }

  /** `[host, port]` (the real port once listening), or a UNIX socket path. */
  get bind_addr(): BindAddr {
    return this.#bindAddr;
  }

  set bind_addr(value: BindAddr) {
    this.#bindAddr = checkBindAddr(value);
  }

  get version(): string {
    return this.#classDefault('version') as string;
  }

  set version(value: string) {
    this.#set('version', value);
  }

  get protocol(): 'HTTP/1.1' | 'HTTP/1.0' {
    return this.#classDefault('protocol') as 'HTTP/1.1' | 'HTTP/1.0';
  }

  set protocol(value: 'HTTP/1.1' | 'HTTP/1.0') {
    if (value !== 'HTTP/1.1' && value !== 'HTTP/1.0') throw new TypeError(`protocol must be 'HTTP/1.1' or 'HTTP/1.0', not ${JSON.stringify(value)}`);
    this.#set('protocol', value);
  }

  get ssl_adapter(): SSLAdapter | null {
    return this.#classDefault('ssl_adapter') as SSLAdapter | null;
  }

  set ssl_adapter(value: SSLAdapter | null) {
    if (value !== null && !(value instanceof SSLAdapter)) throw new TypeError('ssl_adapter must be a BuiltinSSLAdapter (or null)');
    this.#set('ssl_adapter', value);
  }

  get ssl_certificate(): string | null {
    return this.#classDefault('ssl_certificate') as string | null;
  }

  set ssl_certificate(value: string | null) {
    this.#set('ssl_certificate', value);
  }

  get ssl_private_key(): string | null {
    return this.#classDefault('ssl_private_key') as string | null;
  }

  set ssl_private_key(value: string | null) {
    this.#set('ssl_private_key', value);
  }

  get ssl_certificate_chain(): string | null {
    return this.#classDefault('ssl_certificate_chain') as string | null;
  }

  set ssl_certificate_chain(value: string | null) {
    this.#set('ssl_certificate_chain', value);
  }

  /** TCP_NODELAY on accepted connections (read at start). */
  get nodelay(): boolean {
    return this.#classDefault('nodelay') as boolean;
  }

  set nodelay(value: boolean) {
    this.#set('nodelay', Boolean(value));
  }

  /** Most bytes of request-line plus header fields; 0 = Rocket's own limits. */
  get max_request_header_size(): number {
    return this.#classDefault('max_request_header_size') as number;
  }

  set max_request_header_size(value: number) {
    this.#set('max_request_header_size', value);
  }

  /** Largest request body in bytes (413 beyond); 0 = no limit. */
  get max_request_body_size(): number {
    return this.#classDefault('max_request_body_size') as number;
  }

  set max_request_body_size(value: number) {
    this.#set('max_request_body_size', value);
  }

  /** Most idle keep-alive connections kept open; null = no limit. */
  get keep_alive_conn_limit(): number | null {
    return this.#classDefault('keep_alive_conn_limit') as number | null;
  }

  set keep_alive_conn_limit(value: number | null) {
    this.#set('keep_alive_conn_limit', value);
  }

  /**
   * Stop the server, and make the pending `start()`/`serve()` reject with this error (an error
   * class is instantiated, as `server.interrupt = SystemExit` in AspenWeb).
   */
  get interrupt(): Error | null {
    return this.#interrupt;
  }

  set interrupt(value: Interrupt | null) {
    if (value === null) {
      this.#interrupt = null;
      return;
    }
    const error = typeof value === 'function' ? new value() : value;
    if (error instanceof KeyboardInterrupt) this.error_log('Keyboard Interrupt: shutting down', LOG_LEVELS.INFO);
    else if (error instanceof SystemExit) this.error_log('SystemExit raised: shutting down', LOG_LEVELS.INFO);
    this.#interrupt = error;
    void this.stop();
  }

  /** The listening socket, as far as ported code looks at it (`server.socket.getsockname()`). */
  get socket(): { getsockname(): BindAddr } | null {
    return this.#rocket === null ? null : { getsockname: () => this.#bindAddr };
  }

  /** The Rocket underneath while the server runs. */
  get rocket(): Rocket | null {
    return this.#rocket;
  }

  // ---- lifecycle ----

  /** Bind and start serving; `bind_addr` then holds the real port. Rejects with `No socket could be created -- …`. */
  async prepare(): Promise<void> {
    if (this.#rocket !== null) throw new Error('the server is already running; stop() it first');
    this.#interrupt = null;
    this.software ??= `${this.version} Server`;
    removeStaleSocket(this.#bindAddr);
    const rocket = new Rocket(rocketInterface(this), 'wsgi', { wsgi_app: this.#serveRequest }, rocketOptions(this));
    try {
      await rocket.start();
    } catch (error) {
      throw Object.assign(new Error(`No socket could be created -- (${describeBindAddr(this.#bindAddr)}: ${(error as Error).message})`), {
        cause: error,
        code: (error as { code?: unknown }).code,
      });
    }
    this.#rocket = rocket;
    const bound = rocket.addresses[0];
    if (bound !== undefined && typeof this.#bindAddr !== 'string') {
      this.#bindAddr = [this.#bindAddr[0], bound.port, ...this.#bindAddr.slice(2)] as unknown as BindAddr;
    }
    this.#startedAt = Date.now();
    this.#served = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error === null ? resolve() : reject(error));
    });
    // A start() nobody awaits (the "background thread" pattern) must not crash the process when
    // an interrupt stops it; awaiting callers still see the rejection.
    this.#served.catch(() => {});
    this.ready = true;
    if (this.handle_signals) this.#listenForSignals();
  }

  /** Serve until stopped: resolves after `stop()`, rejects with the interrupt that stopped it. */
  serve(): Promise<void> {
    if (this.#served === null) return Promise.reject(new Error('serve() before prepare(): call start() or prepare() first'));
    return this.#served;
  }

  /** `prepare()` then `serve()`: the promise settles when the server stops. */
  async start(): Promise<void> {
    await this.prepare();
    return this.serve();
  }

  /** `start()`, turning a `KeyboardInterrupt`/`SystemExit` into the server's interrupt first. */
  async safe_start(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      if (isInterrupt(error) && this.#interrupt === null) this.interrupt = error;
      throw error;
    }
  }

  /**
   * Stop: no new connections, idle ones closed, requests in flight given `shutdown_timeout`
   * seconds. Safe before `start()` and when called twice; also from inside a request (do not
   * await it there: it waits for that request too).
   */
  stop(): Promise<void> {
    const rocket = this.#rocket;
    if (rocket === null) return Promise.resolve();
    if (this.#stopping !== null) return this.#stopping;
    this.ready = false;
    this.#removeSignals();
    this.#stopping = (async () => {
      try {
        await rocket.stop({ timeout: Math.max(0, this.shutdown_timeout) });
      } finally {
        this.#rocket = null;
        this.#stopping = null;
        const settle = this.#settle;
        this.#settle = null;
        settle?.(this.#interrupt);
      }
    })();
    return this.#stopping;
  }

  /**
   * Where the server's messages go: `level` is Python's (10 debug, 20 info, 30 warning, 40 error).
   * Override it (as CherryPy's own subclass does) to send them elsewhere. Default: stderr, info and up.
   */
  error_log(msg = '', level: number = LOG_LEVELS.INFO, traceback = false): void {
    if (level < LOG_LEVELS.INFO) return;
    void traceback;
    process.stderr.write(`${msg}\n`);
  }

  // ---- internals ----

  #classDefault(name: ClassDefault): unknown {
    if (Object.prototype.hasOwnProperty.call(this.#own, name)) return this.#own[name];
    return (this.constructor as unknown as Record<ClassDefault, unknown>)[name];
  }

  #set(name: ClassDefault, value: unknown): void {
    this.#own[name] = value;
    this.#apply();
  }

  /** What a running server reads from the attributes on its next request. */
  #apply(): void {
    const rocket = this.#rocket;
    if (rocket === null) return;
    rocket.updateOptions(liveOptions(this));
  }

  /** Every request: cheroot's own refusals, the environ it builds, then the app. */
  readonly #serveRequest = (environ: Environ, start: StartResponse): GatewayBody | Promise<GatewayBody> => {
    const refusal = appLevelRefusal(environ.REQUEST_METHOD as string, environ.REQUEST_URI as string);
    if (refusal !== null) {
      start(refusal.status, [
        ['Content-Type', 'text/plain'],
        ['Content-Length', String(Buffer.byteLength(refusal.message, 'latin1'))],
        ['Connection', 'close'],
      ]);
      return [Buffer.from(refusal.message, 'latin1')];
    }
    this.#extendEnviron(environ);
    const app = this.#app;
    if (app === null) throw new TypeError('the server has no wsgi_app');
    let body: GatewayBody | Promise<GatewayBody>;
    try {
      body = app(environ, closingOn413(start));
    } catch (error) {
      throw this.#appError(error);
    }
    if (isThenable(body)) return body.then(undefined, (error: unknown) => Promise.reject(this.#appError(error)));
    return body;
  };

  /** An app that throws KeyboardInterrupt or SystemExit stops the server (cheroot's worker does so). */
  #appError(error: unknown): unknown {
    if (isInterrupt(error) && this.#interrupt === null) this.interrupt = error;
    return error;
  }

  #extendEnviron(environ: Environ): void {
    for (const [key, value] of Object.entries(this.environ)) if (!(key in environ)) environ[key] = value;
    if (environ.REQUEST_URI === '*') environ.PATH_INFO = '/*';
    else environ.PATH_INFO = latin1Path(environ.REQUEST_URI as string) ?? environ.PATH_INFO;
    environ.SERVER_NAME = this.server_name || (environ.SERVER_NAME as string);
    environ.SERVER_SOFTWARE = this.software ?? `${this.version} Server`;
    environ.ACTUAL_SERVER_PROTOCOL = this.protocol;
    environ['wsgi.input_terminated'] = true;
    const tls = (environ['rocket.connection'] as { tls: TlsFacts | null } | undefined)?.tls ?? null;
    if (tls !== null) Object.assign(environ, tlsEnviron(tls, this.version));
  }

  #listenForSignals(): void {
    const int = () => {
      this.interrupt = new KeyboardInterrupt();
    };
    const term = () => {
      void this.stop();
    };
    process.once('SIGINT', int);
    process.once('SIGTERM', term);
    this.#signals = { int, term };
  }

  #removeSignals(): void {
    if (this.#signals === null) return;
    process.off('SIGINT', this.#signals.int);
    process.off('SIGTERM', this.#signals.term);
    this.#signals = null;
  }

  #makeStats(): Record<string, unknown> {
    const server = this;
    const snapshot = () => server.#rocket?.stats();
    const runTime = () => (server.#startedAt === 0 ? 0 : (Date.now() - server.#startedAt) / 1000);
    return Object.defineProperties({ Enabled: false } as Record<string, unknown>, {
      'Bind Address': { enumerable: true, get: () => describeBindAddr(server.#bindAddr) },
      'Run time': { enumerable: true, get: runTime },
      Accepts: { enumerable: true, get: () => snapshot()?.connections.accepted ?? 0 },
      'Accepts/sec': { enumerable: true, get: () => (runTime() > 0 ? (snapshot()?.connections.accepted ?? 0) / runTime() : 0) },
      Queue: { enumerable: true, get: () => snapshot()?.pool.queued ?? 0 },
      Threads: { enumerable: true, get: () => snapshot()?.pool.threads ?? 0 },
      'Threads Idle': { enumerable: true, get: () => server.requests.idle },
      'Socket Errors': { enumerable: true, get: () => snapshot()?.connections.rejected ?? 0 },
      Requests: { enumerable: true, get: () => snapshot()?.requests.total ?? 0 },
      'Open Connections': { enumerable: true, get: () => snapshot()?.connections.open ?? 0 },
    });
  }
}

/** cheroot's name for the same class. */
export const WSGIServer = CherryPyWSGIServer;
export type WSGIServer = CherryPyWSGIServer;

/** Attributes with a class-level default that an instance may override. */
type ClassDefault =
  | 'version'
  | 'protocol'
  | 'ssl_adapter'
  | 'ssl_certificate'
  | 'ssl_private_key'
  | 'ssl_certificate_chain'
  | 'nodelay'
  | 'max_request_header_size'
  | 'max_request_body_size'
  | 'keep_alive_conn_limit';

/**
 * `WSGIPathInfoDispatcher({ '/': app, '/blog': blog })` (or a list of pairs): the app under the
 * longest matching prefix, with SCRIPT_NAME and PATH_INFO rewritten; 404 with an empty body when
 * nothing matches.
 */
export function WSGIPathInfoDispatcher(apps: Record<string, GatewayApp> | readonly (readonly [string, GatewayApp])[]): GatewayApp {
  return mount(apps as Record<string, GatewayApp>);
}

function isThenable(value: unknown): value is Promise<GatewayBody> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** cheroot closes the connection after a 413 the app sends: the body it refused may still come. */
function closingOn413(start: StartResponse): StartResponse {
  return ((status: string, headers: [string, string][], excInfo?: unknown) => {
    if (typeof status === 'string' && status.startsWith('413') && Array.isArray(headers) && !headers.some(([name]) => String(name).toLowerCase() === 'connection')) {
      headers = [...headers, ['Connection', 'close']];
    }
    return (start as (s: string, h: [string, string][], e?: unknown) => ReturnType<StartResponse>)(status, headers, excInfo);
  }) as StartResponse;
}

