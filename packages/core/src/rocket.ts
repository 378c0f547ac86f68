/**
 * `Rocket`: the server. Owns the listeners, the worker pool, the monitor and the open connections,
 * and runs the lifecycle:
 *
 *   stopped ──start()──▶ starting ──▶ running ──stop()──▶ stopping ──▶ stopped
 *                                      │   ▲
 *                              restart()   └── (old connections drained, TLS files re-read)
 *                                      ▼   │
 *                                     restarting      (listeners stay open: nothing is lost)
 */

import cluster from 'node:cluster';
import type { Socket } from 'node:net';
import { Connection, type ServerContext } from './connection.js';
import type { ConnectionInfo, ServerInfo, WsgiErrors } from './environ.js';
import { RocketError } from './errors.js';
import { fileWrapper } from './file-wrapper.js';
import type { GatewayApp } from './gateway.js';
import type { ChunkedLimits } from './http/chunked.js';
import type { HeadLimits } from './http/request-head.js';
import { parseInterfaces, type BindSpec } from './interfaces.js';
import { Listener, type BoundAddress, type ListenerSettings } from './listener.js';
import { Monitor } from './monitor.js';
import { resolveOptions, type ResolvedOptions, type RocketOptions } from './options.js';
import { WorkerPool, type PoolStats } from './pool.js';
import { installSignalHandlers } from './signals.js';

/** What a method needs to run, as in Rocket: `{ wsgi_app }` for the `wsgi` method. */
export interface AppInfo {
  wsgi_app?: GatewayApp;
  [key: string]: unknown;
}

/** The methods Rocket serves with. */
export type Method = 'wsgi';

const enum State {
  Stopped,
  Starting,
  Running,
  Restarting,
  Stopping,
}

const STATE_NAMES = ['stopped', 'starting', 'running', 'restarting', 'stopping'] as const;

/** A JSON-able snapshot of the server. */
export interface RocketStats {
  state: (typeof STATE_NAMES)[number];
  connections: {
    /** Open now. */
    open: number;
    /** With a request being served or waiting for a worker. */
    active: number;
    /** Idle between requests, held by the monitor. */
    idle: number;
    /** Waiting for the client to read the responses already sent before anything else is read. */
    flushing: number;
    /** Accepted since the server was created. */
    accepted: number;
    /** Refused with 503 because the queue was full. */
    rejected: number;
  };
  pool: PoolStats;
  requests: { total: number };
}

/** How `stop()` and `restart()` may be bounded. */
export interface StopOptions {
  /** Seconds to wait for in-flight requests before closing what is left. Default: `shutdownTimeout`. */
  timeout?: number;
}

/**
 * An HTTP/1.1 server running a gateway app on one or more interfaces.
 *
 * @example
 * const server = new Rocket(['127.0.0.1', 8000], 'wsgi', {
 *   wsgi_app: (environ, startResponse) => {
 *     startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *     return ['Hello'];
 *   },
 * });
 * await server.start();
 * console.log(server.addresses); // [{ host: '127.0.0.1', port: 8000, secure: false, family: 'IPv4' }]
 * await server.stop();
 */
export class Rocket {
  readonly interfaces: readonly BindSpec[];
  readonly method: Method;
  readonly appInfo: AppInfo;
  readonly options: ResolvedOptions;
  #state = State.Stopped;
  readonly #listeners: Listener[];
  readonly #connections = new Set<Connection>();
  /** Sockets handed over by an Upgrade: not HTTP any more, but closed when the server stops. */
  readonly #upgraded = new Set<Socket>();
  readonly #context: ServerContext;
  readonly #monitor: Monitor;
  readonly #pool: WorkerPool;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #restarting: Promise<void> | null = null;
    /** Resolved when the connections being waited for (a stop or restart) have all closed. */
  #drained: { connections: Set<Connection>; resolve: () => void } | null = null;
  #stopWaiters: (() => void)[] = [];
  #removeSignalHandlers: (() => void) | null = null;
  #nextConnectionId = 1;
  #accepted = 0;
  #rejected = 0;
  #requests = 0;

  constructor(
    interfaces: unknown = ['127.0.0.1', 8000],
    method: string = 'wsgi',
    appInfo: AppInfo = {},
    options: RocketOptions = {},
  ) {
    this.interfaces = parseInterfaces(interfaces);
    if (typeof method !== 'string' || method.toLowerCase() !== 'wsgi') {
      throw new RocketError('ROCKET_ERR_INVALID_OPTION', `unknown method ${JSON.stringify(method)}; Rocket serves with "wsgi"`);
    }
    this.method = 'wsgi';
    if (typeof appInfo !== 'object' || appInfo === null) {
      throw new RocketError('ROCKET_ERR_INVALID_APP', 'appInfo must be an object such as { wsgi_app: app }');
    }
    if (typeof appInfo.wsgi_app !== 'function') {
      throw new RocketError('ROCKET_ERR_INVALID_APP', `the wsgi_app specified (${typeof appInfo.wsgi_app}) is not a valid gateway application`);
    }
    this.appInfo = appInfo;
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.#listeners = this.interfaces.map((spec) => new Listener(spec));
    this.#monitor = new Monitor(monitorResolution(resolved));
    this.#pool = new WorkerPool(resolved);
    const server = this;
    const serverInfo: ServerInfo = {
      serverName: resolved.serverName,
      serverSoftware: resolved.serverSoftware,
      multithread: resolved.maxThreads !== 1,
      multiprocess: cluster.isWorker,
      errors: stderrStream,
      fileWrapper,
    };
    // Read when used, like every option: a running server's limits may be changed.
    const headLimits: HeadLimits = {
      get maxRequestLine() {
        return resolved.maxRequestLine;
      },
      get maxHeaderSize() {
        return resolved.maxHeaderSize;
      },
      get maxHeaders() {
        return resolved.maxHeaders;
      },
      get requireHost() {
        return resolved.requireHost;
      },
    };
    const chunkedLimits: ChunkedLimits = {
      get maxBodySize() {
        return resolved.maxBodySize;
      },
      get maxChunkExtensions() {
        return resolved.maxChunkExtensions;
      },
      get maxTrailerSize() {
        return resolved.maxHeaderSize;
      },
      get maxTrailers() {
        return resolved.maxHeaders;
      },
    };
    this.#context = {
      app: appInfo.wsgi_app,
      options: resolved,
      logger: resolved.logger,
      monitor: this.#monitor,
      pool: this.#pool,
      serverInfo,
      headLimits,
      chunkedLimits,
      // Read when used: a bridge may change the timeout of a running server.
      get keepAliveHint() {
        return Math.floor(resolved.timeout);
      },
      get stopping() {
        return server.#state === State.Stopping;
      },
      connectionClosed: (conn) => this.#connectionClosed(conn),
      connectionDetached: (conn, socket) => {
        this.#connectionClosed(conn);
        this.#upgraded.add(socket);
        socket.once('close', () => this.#upgraded.delete(socket));
      },
      requestCompleted: () => {
        this.#requests++;
      },
      idleConnections: () => {
        let idle = 0;
        for (const conn of this.#connections) if (conn.idle) idle++;
        return idle;
      },
    };
  }

  /** What every interface is bound to, in the order given; empty while stopped. */
  get addresses(): BoundAddress[] {
    return this.#listeners.flatMap((listener) => (listener.address === null ? [] : [{ ...listener.address }]));
  }

  /**
   * Bind every interface and start serving. Resolves when all listen; if one cannot, the others
   * are closed again and the promise rejects with an error naming that interface.
   */
  start(): Promise<void> {
    switch (this.#state) {
      case State.Running:
        return Promise.resolve();
      case State.Starting:
        return this.#starting!;
      case State.Restarting:
        return this.#restarting!;
      case State.Stopping:
        return Promise.reject(new RocketError('ROCKET_ERR_STATE', 'start() while the server is stopping; await stop() first'));
    }
    this.#state = State.Starting;
    this.#starting = this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const logger = this.options.logger;
    logger.info(`Starting Rocket ${this.options.serverSoftware}`);
    const onConnection = (socket: Socket, info: ConnectionInfo) => this.#accept(socket, info);
    const settings = this.#listenerSettings();
    const results = await Promise.allSettled(this.#listeners.map((listener) => listener.listen(settings, onConnection)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure !== undefined) {
      for (const listener of this.#listeners) listener.close();
      this.#state = State.Stopped;
      throw failure.reason;
    }
    this.#pool.start();
    if (this.options.handleSignals) {
      this.#removeSignalHandlers = installSignalHandlers(
        { stop: () => this.stop(), restart: () => this.restart(), forceStop: () => this.#forceClose() },
        logger,
      );
    }
    this.#state = State.Running;
    logger.info(`Listening on sockets: ${this.#listeners.map((l) => l.spec.label).join(', ')}`);
  }

  #listenerSettings(): ListenerSettings {
    return {
      handshakeTimeout: this.options.socketTimeout * 1000,
      noDelay: this.options.noDelay,
      backlog: this.options.backlog,
      logger: this.options.logger,
      nextConnectionId: () => this.#nextConnectionId++,
    };
  }

  #accept(socket: Socket, info: ConnectionInfo): void {
    if (this.#state !== State.Running && this.#state !== State.Restarting) {
      socket.destroy();
      return;
    }
    this.#accepted++;
    const conn = new Connection(socket, this.#context, info);
    this.#connections.add(conn);
    if (this.#pool.full) {
      this.#rejected++;
      conn.rejectOverloaded();
    }
  }

  #connectionClosed(conn: Connection): void {
    this.#connections.delete(conn);
    const drained = this.#drained;
    if (drained !== null && drained.connections.delete(conn) && drained.connections.size === 0) drained.resolve();
  }

  /**
   * Ask `connections` to finish what is in flight and close; resolves when all have closed. After
   * `timeout` seconds, whatever is left is destroyed.
   */
  async #drain(connections: Set<Connection>, timeout: number): Promise<void> {
    if (connections.size === 0) return;
    const allClosed = new Promise<void>((resolve) => {
      this.#drained = { connections, resolve };
    });
    for (const conn of connections) conn.retire();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout * 1000);
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    if (connections.size > 0) {
      this.options.logger.warn(`${connections.size} connection(s) still busy after ${timeout} s; closing them`);
      for (const conn of connections) conn.destroy();
      await allClosed;
    }
    this.#drained = null;
  }

  /**
   * Stop gracefully: close the listeners, close idle connections at once, let in-flight requests
   * finish (their responses say `Connection: close`; no further pipelined request is read), and
   * after `timeout` seconds (default `shutdownTimeout`) close whatever is left. Safe before
   * `start()` and when called twice; resolves when everything is closed.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    if (this.#state === State.Stopped && this.#starting === null) return Promise.resolve();
    const timeout = options.timeout ?? this.options.shutdownTimeout;
    this.#stopping = this.#stop(timeout).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(timeout: number): Promise<void> {
    if (this.#starting !== null) await this.#starting.catch(() => {});
    if (this.#restarting !== null) await this.#restarting.catch(() => {});
    if (this.#state === State.Stopped) return;
    this.#state = State.Stopping;
    this.options.logger.info(`Stopping Rocket ${this.options.serverSoftware}`);
    for (const listener of this.#listeners) listener.close();
    await this.#drain(new Set(this.#connections), timeout);
    for (const listener of this.#listeners) listener.destroyHandshakes();
    for (const socket of this.#upgraded) socket.destroy();
    this.#monitor.close();
    this.#pool.stop();
    this.#removeSignalHandlers?.();
    this.#removeSignalHandlers = null;
    this.#state = State.Stopped;
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Close every connection now, in-flight requests included (a second SIGINT). */
  #forceClose(): void {
    for (const conn of this.#connections) conn.destroy();
  }

  /** Resolves the next time the server has completely stopped. */
  stopped(): Promise<void> {
    if (this.#state === State.Stopped && this.#stopping === null) return Promise.resolve();
    return new Promise((resolve) => this.#stopWaiters.push(resolve));
  }

  /**
   * Restart without closing the listeners, so nothing the kernel accepts meanwhile is lost: the
   * TLS key, certificate and CA files are read again for new connections, and the connections open
   * now finish their requests and close (as in `stop()`) while new ones are served as usual.
   */
  restart(options: StopOptions = {}): Promise<void> {
    if (this.#restarting !== null) return this.#restarting;
    if (this.#state !== State.Running) {
      if (this.#stopping !== null) return this.#stopping.then(() => this.start());
      return this.start();
    }
    const timeout = options.timeout ?? this.options.shutdownTimeout;
    this.#restarting = this.#restart(timeout).finally(() => {
      this.#restarting = null;
    });
    return this.#restarting;
  }

  async #restart(timeout: number): Promise<void> {
    this.#state = State.Restarting;
    this.options.logger.info(`Restarting Rocket ${this.options.serverSoftware}`);
    try {
      // New connections are served as they come, on the renewed certificates once they are read;
      // the ones open now finish what they have in flight and close.
      const reloaded = Promise.all(this.#listeners.map((listener) => listener.reload()));
      await this.#drain(new Set(this.#connections), timeout);
      await reloaded;
    } finally {
      this.#state = State.Running;
    }
  }

  /**
   * Close connections now: the idle ones (between requests), or all of them, requests in flight
   * included — node:http's `closeIdleConnections()` and `closeAllConnections()`.
   */
  closeConnections(options: { idleOnly: boolean }): void {
    for (const conn of this.#connections) {
      if (!options.idleOnly) conn.destroy();
      else if (conn.idle) conn.retire();
    }
  }

  /** Let the process exit while the server listens (`unref`), or keep it alive again (`ref`). */
  unref(): void {
    for (const listener of this.#listeners) listener.unref();
  }

  ref(): void {
    for (const listener of this.#listeners) listener.ref();
  }

  /** A JSON-able snapshot of connections, the pool and requests. */
  stats(): RocketStats {
    let idle = 0;
    let active = 0;
    let flushing = 0;
    for (const conn of this.#connections) {
      if (conn.flushing) flushing++;
      else if (conn.idle) idle++;
      else if (conn.active) active++;
    }
    return {
      state: STATE_NAMES[this.#state],
      connections: { open: this.#connections.size, active, idle, flushing, accepted: this.#accepted, rejected: this.#rejected },
      pool: this.#pool.stats(),
      requests: { total: this.#requests },
    };
  }
}

/** Deadlines are checked often enough that the shortest timeout is off by a tenth at most. */
function monitorResolution(options: ResolvedOptions): number {
  const timeouts = [options.timeout, options.socketTimeout, options.headerTimeout, options.queueTimeout, options.requestTimeout];
  const shortest = Math.min(...timeouts.filter((s) => s > 0).map((s) => s * 1000), 10_000);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 10)));
}

/** `wsgi.errors`: text to the process's stderr. */
const stderrStream: WsgiErrors = {
  write: (text) => {
    process.stderr.write(text);
  },
  writelines: (lines) => {
    for (const line of lines) process.stderr.write(line);
  },
  flush: () => {},
};
