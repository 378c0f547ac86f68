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
import { errorResponse } from './http/response-head.js';
import { httpDate } from './gateway/response.js';
import { Connection, type ServerContext } from './engine/connection.js';
import type { ConnectionInfo, ServerInfo } from './gateway/environ.js';
import { RocketError } from './errors.js';
import { fileWrapper } from './gateway/file-wrapper.js';
import type { GatewayApp } from './gateway/run-app.js';
import type { ChunkedLimits } from './http/chunked.js';
import type { HeadLimits } from './http/request-head.js';
import { parseInterfaces, type BindSpec } from './engine/bind.js';
import { AddressList } from './http/ip.js';
import { expandActivated } from './engine/socket-activation.js';
import { describeAddress, Listener, type BoundAddress, type ListenerSettings } from './engine/listener.js';
import { Monitor } from './engine/monitor.js';
import { monitorResolution, proxyHeaderTimeout } from './engine/deadlines.js';
import { checkOptionChanges, resolveOptions, type DroppedConnection, type ResolvedOptions, type RocketOptions } from './options.js';
import { WorkerPool } from './engine/pool.js';
import { installSignalHandlers } from './signals.js';
import { Executor, provideFutures } from './apps/futures.js';
import { compileAccessFormat, type AccessRecord } from './observability/access-log.js';
import { LogChannels, type Logger } from './observability/logging.js';
import { metricsSource, prometheusTextOf, RequestMetrics, type MetricsSource } from './observability/metrics.js';
import { attachWorker, checkReusePort, gatherMetrics, Supervisor, workerCount } from './workers.js';
import { workerNumber } from './observability/worker-number.js';
import { keepAliveHint } from './http/response-framing.js';
import { metricsResponder, withMetricsPath, withProbes } from './apps/probes.js';
import { stderrStream } from './gateway/wsgi-errors.js';
import { combineStats, serverStats, STATE_NAMES, type RocketStats } from './stats.js';
import { appFor, appMethod, type AppInfo, type AppMethod } from './app-info.js';

export type { AppInfo, AppMethod, Method } from './app-info.js';
export type { RocketStats };

const enum State {
  Stopped,
  Starting,
  Running,
  Restarting,
  Stopping,
}

/** How `stop()` and `restart()` may be bounded. */
export interface StopOptions {
  /** Seconds to wait for in-flight requests before closing what is left. Default: `shutdownTimeout`. */
  timeout?: number;
  /** `stop()` only: seconds to keep serving, readiness answering 503, before the listeners close. Default: `drainDelay`. */
  drainDelay?: number;
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
  readonly method: AppMethod;
  readonly appInfo: AppInfo;
  readonly options: ResolvedOptions;
  #state = State.Stopped;
  readonly #listeners: Listener[];
  /** The listener of `metricsInterface`, also in #listeners; null without one. */
  readonly #metricsListener: Listener | null;
  readonly #metricsContext: ServerContext | null;
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
  #drained: { connections: Set<Connection>; resolve: () => void; lastCallBy: number; accepting: boolean } | null = null;
  #stopWaiters: (() => void)[] = [];
  #removeSignalHandlers: (() => void) | null = null;
  #nextConnectionId = 1;
  #accepted = 0;
  #rejected = 0;
  readonly #logs: LogChannels;
  readonly #metrics = new RequestMetrics();
  #executor: Executor | null = null;
  /** With `workers`, in the primary process: the workers' supervisor while started. */
  #supervisor: Supervisor | null = null;
  /** In a worker process: detaches from the primary. */
  #detachWorker: (() => void) | null = null;
  #accessFormat: { format: string; line: (record: AccessRecord) => string } | null = null;
  /** From the moment a stop begins until the next start: readiness answers 503. */
  #draining = false;
  /** Ends a stop's drain delay early (a forced stop). */
  #endDrainDelay: (() => void) | null = null;
  readonly #proxyAllowIps: AddressList;
  /** Connections accepted while starting, served once the server runs. */
  #early: [Socket, ConnectionInfo, ServerContext][] = [];

  constructor(
    interfaces: unknown = ['127.0.0.1', 8000],
    method: string = 'wsgi',
    appInfo: AppInfo = {},
    options: RocketOptions = {},
  ) {
    // In a cluster worker, sockets passed to the primary are listened on through the primary.
    this.interfaces = expandActivated(parseInterfaces(interfaces), process.env, cluster.isWorker ? [process.pid, process.ppid] : [process.pid]);
    this.method = appMethod(method);
    let app = appFor(this.method, appInfo);
    this.appInfo = appInfo;
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.#proxyAllowIps = AddressList.parse(resolved.proxyAllowIps);
    const forwardedAllowIps = AddressList.parse(resolved.forwardedAllowIps);
    if (resolved.reusePort) {
      checkReusePort();
      if (resolved.workers !== 0 && this.interfaces.some((spec) => spec.path === null && spec.port === 0)) {
        throw new RocketError('ROCKET_ERR_INVALID_OPTION', 'option reusePort with workers needs a fixed port: with port 0 each worker would listen on a port of its own');
      }
    }
    this.#listeners = this.interfaces.map((spec) => new Listener(spec));
    if (resolved.metricsInterface !== null) {
      const specs = parseInterfaces(resolved.metricsInterface);
      if (specs.length !== 1) throw new RocketError('ROCKET_ERR_INVALID_OPTION', 'metricsInterface: one interface, such as ["127.0.0.1", 9100]');
      this.#metricsListener = new Listener(specs[0]!);
      this.#listeners.push(this.#metricsListener);
    } else {
      this.#metricsListener = null;
    }
    this.#monitor = new Monitor(monitorResolution(resolved));
    this.#pool = new WorkerPool(resolved);
    this.#logs = new LogChannels(resolved.logger, resolved.logLevels, resolved.logLevel);
    this.#pool.log = this.#logs.pool;
    this.#accessLine();
    const server = this;
    // Every keep-alive response reads the hint; it is made again only when its options change.
    let hint = { timeout: Number.NaN, max: Number.NaN, value: '' };
    const serverInfo: ServerInfo = {
      serverName: resolved.serverName,
      serverSoftware: resolved.serverSoftware,
      multithread: resolved.maxThreads !== 1,
      multiprocess: cluster.isWorker,
      errors: stderrStream,
      fileWrapper,
    };
    // Read when used, like every option: a running server's limits may be changed. The options
    // carry the head limits under their own names; the chunked body's trailers borrow the head's.
    const headLimits: HeadLimits = resolved;
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
    const fieldKeys = app.rawHeadersOnly !== true;
    if (appInfo.futures === true) app = this.#withFutures(app);
    this.#context = {
      app: withProbes(withMetricsPath(app, resolved, () => this.#scrape()), resolved, () => !this.#draining),
      forwardedAllowIps: forwardedAllowIps.text === '' ? null : forwardedAllowIps,
      fieldKeys,
      options: resolved,
      logger: this.#logs.errors,
      logs: this.#logs,
      metrics: this.#metrics,
      accessLine: () => this.#accessLine(),
      monitor: this.#monitor,
      pool: this.#pool,
      serverInfo,
      headLimits,
      chunkedLimits,
      // Read when used: a bridge may change the timeout of a running server.
      get keepAliveHint() {
        if (resolved.timeout !== hint.timeout || resolved.maxRequestsPerConnection !== hint.max) {
          hint = { timeout: resolved.timeout, max: resolved.maxRequestsPerConnection, value: keepAliveHint(resolved.timeout, resolved.maxRequestsPerConnection) };
        }
        return hint.value;
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

      idleConnections: () => {
        let idle = 0;
        for (const conn of this.#connections) if (conn.idle) idle++;
        return idle;
      },
    };
    // The metrics interface serves the metrics at any path, with everything else of the server.
    const metricsApp = withProbes(metricsResponder(() => this.#scrape()), resolved, () => !this.#draining);
    this.#metricsContext = this.#metricsListener === null ? null : Object.create(this.#context, { app: { value: metricsApp }, fieldKeys: { value: true } });
  }

  /**
   * The executor of `appInfo.futures`: one per server, kept across `restart()`; a `stop()` shuts
   * it down and the next `start()` makes a new one. Null without futures.
   */
  get executor(): Executor | null {
    return this.#executor;
  }

  #withFutures(app: GatewayApp): GatewayApp {
    this.#executor = this.#newExecutor();
    return (environ, startResponse) => {
      provideFutures(environ, this.#executor!);
      return app(environ, startResponse);
    };
  }

  #newExecutor(): Executor {
    return new Executor({ threads: this.options.futuresThreads, workerThreads: this.options.futuresWorkerThreads, logger: this.#logs.errors });
  }

  /** What every interface is bound to, in the order given; empty while stopped. */
  get addresses(): BoundAddress[] {
    if (this.#supervisor !== null) return this.#supervisor.addresses.map((address) => ({ ...address }));
    return this.#listeners.flatMap((listener) => (listener.address === null || listener === this.#metricsListener ? [] : [{ ...listener.address }]));
  }

  /** Where `metricsInterface` is bound; null without one or while stopped. */
  get metricsAddress(): BoundAddress | null {
    const address = this.#metricsListener?.address ?? null;
    return address === null ? null : { ...address };
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
    this.#draining = false;
    if (this.#executor?.isShutdown === true) this.#executor = this.#newExecutor();
    this.#starting = this.#start().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.options.workers !== 0 && cluster.isPrimary) return this.#startPrimary();
    const logger = this.#logs.rocket;
    logger.info(`Starting Rocket ${this.options.serverSoftware}`);
    const onConnection = (socket: Socket, info: ConnectionInfo) => this.#accept(socket, info);
    const settings = this.#listenerSettings();
    const results = await Promise.allSettled(
      this.#listeners.map((listener) =>
        listener.listen(
          // The metrics interface is scraped directly, never through the proxy, and stays reachable
          // when the serving interfaces are full.
          { ...settings, logger: this.#portLogger(listener), ...(listener === this.#metricsListener ? { proxyProtocol: null, maxConnections: 0 } : {}) },
          listener === this.#metricsListener ? (socket, info) => this.#accept(socket, info, this.#metricsContext!) : onConnection,
        ),
      ),
    );
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure !== undefined) {
      for (const listener of this.#listeners) listener.close();
      for (const [socket] of this.#early.splice(0)) socket.destroy();
      this.#state = State.Stopped;
      throw failure.reason;
    }
    this.#pool.start();
    const worker = workerNumber() !== 0;
    if (this.options.handleSignals) {
      this.#removeSignalHandlers = installSignalHandlers(
        worker
          ? { stop: () => this.stop(), restart: null, forceStop: () => this.#forceClose(), addWorker: null, removeWorker: null }
          : { stop: () => this.stop(), restart: () => this.restart(), forceStop: () => this.#forceClose() },
        logger,
      );
    }
    this.#state = State.Running;
    for (const [socket, info, context] of this.#early.splice(0)) this.#accept(socket, info, context);
    logger.info(`Listening on sockets: ${this.addresses.map(describeAddress).join(', ')}${worker ? ` (worker ${workerNumber()}, pid ${process.pid})` : ''}`);
    if (worker) {
      this.#detachWorker = attachWorker(
        { addresses: this.addresses, stop: (options) => this.stop(options), stats: () => ({ stats: this.stats(), source: this.#metricsSource() }), metricsSource: () => this.#metricsSource() },
        logger,
      );
    }
  }

  /** The primary process of `workers`: fork and supervise the workers, which do the serving. */
  async #startPrimary(): Promise<void> {
    const logger = this.#logs.rocket;
    const count = workerCount(this.options.workers);
    logger.info(`Starting Rocket ${this.options.serverSoftware} with ${count} worker process(es)`);
    const supervisor = new Supervisor({
      count,
      shutdownTimeout: this.options.shutdownTimeout,
      logger,
      onGiveUp: () => {
        process.exitCode = 1;
        void this.stop();
      },
    });
    this.#supervisor = supervisor;
    // The first workers serve (a shared or inherited socket) while the others still load the app:
    // a stop signal from then on must stop them all, not end the primary by the default action.
    if (this.options.handleSignals) {
      this.#removeSignalHandlers = installSignalHandlers(
        {
          stop: () => this.stop(),
          restart: () => this.restart(),
          forceStop: () => supervisor.kill(),
          addWorker: () => supervisor.add(),
          removeWorker: () => supervisor.remove(),
        },
        logger,
      );
    }
    try {
      await supervisor.start();
    } catch (error) {
      this.#removeSignalHandlers?.();
      this.#removeSignalHandlers = null;
      this.#supervisor = null;
      this.#state = State.Stopped;
      throw error;
    }
    this.#state = State.Running;
    logger.info(`Listening on sockets: ${this.addresses.map(describeAddress).join(', ')} (${count} workers)`);
  }

  /** `Rocket.Errors.Port<n>` of a listener, named by the port it is bound to (known once it listens). */
  #portLogger(listener: Listener): Logger {
    const channel = () => this.#logs.port(listener.address?.port || listener.spec.path || listener.spec.port);
    return {
      debug: (message) => channel().debug(message),
      info: (message) => channel().info(message),
      warn: (message) => channel().warn(message),
      error: (message) => channel().error(message),
    };
  }

  #listenerSettings(): ListenerSettings {
    return {
      handshakeTimeout: this.options.socketTimeout * 1000,
      noDelay: this.options.noDelay,
      ipv6Only: this.options.ipv6Only,
      backlog: this.options.backlog,
      reusePort: this.options.reusePort,
      logger: this.#logs.errors,
      nextConnectionId: () => this.#nextConnectionId++,
      proxyProtocol: this.options.proxyProtocol === false ? null : this.options.proxyProtocol,
      proxyAllowIps: this.#proxyAllowIps,
      // The header comes first, so it has the time a fresh connection has for its first request.
      proxyTimeout: proxyHeaderTimeout(this.options),
      unixSocketMode: this.options.unixSocketMode,
      maxConnections: this.options.maxConnections,
      onDrop: (connection) => this.#dropped(connection),
    };
  }

  /** A connection closed on arrival for `maxConnections`: logged, and told to the onDrop hook. */
  #dropped(connection: DroppedConnection): void {
    this.#logs.errors.debug(`connection from ${connection.remoteAddress ?? 'a UNIX socket'} closed: maxConnections (${this.options.maxConnections}) are open`);
    const hook = this.options.onDrop;
    if (hook === null) return;
    try {
      hook(connection);
    } catch (error) {
      this.#logs.errors.error(`the onDrop hook threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  /** The onConnection hook hears of a new connection; a hook that throws costs that connection only. */
  #announce(info: ConnectionInfo): void {
    const hook = this.options.onConnection;
    if (hook === null || hook === undefined) return;
    try {
      hook(info);
    } catch (error) {
      this.#logs.errors.error(`the onConnection hook threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      info.destroy();
    }
  }

  #accept(socket: Socket, info: ConnectionInfo, context: ServerContext = this.#context): void {
    if (this.#state === State.Starting) {
      // A socket passed in (systemd, a cluster primary) may hold connections before every
      // interface listens: they wait for the start to finish.
      socket.on('error', ignoreError);
      this.#early.push([socket, info, context]);
      return;
    }
    if (this.#state === State.Stopped) {
      // Handed over after the stop ended (a cluster primary passing on a connection it accepted
      // just before): answered, not dropped, so the client knows to go elsewhere.
      socket.on('error', ignoreError);
      socket.end(errorResponse(503, 'the server is stopping', httpDate(), this.options.serverSoftware || null, `Retry-After: 5\r\n`));
      socket.setTimeout(1000, () => socket.destroy());
      return;
    }
    this.#accepted++;
    const conn = new Connection(socket, context, info);
    this.#connections.add(conn);
    if (context === this.#context) this.#announce(info);
    // Accepted while stopping (the last accepts before the listeners close, a TLS handshake that
    // ends now): its request is still served, as the only one.
    if (this.#state === State.Stopping && this.#drained !== null) {
      this.#drained.connections.add(conn);
      conn.retire(this.#drained.lastCallBy);
      return;
    }
    if (this.#pool.full) {
      this.#rejected++;
      conn.rejectOverloaded();
    }
  }

  #connectionClosed(conn: Connection): void {
    if (!this.#connections.delete(conn)) return;
    const metrics = this.#metrics;
    metrics.closedConnections++;
    metrics.bytesReceived += conn.socket.bytesRead;
    metrics.bytesSent += conn.socket.bytesWritten;
    const drained = this.#drained;
    if (drained !== null && drained.connections.delete(conn) && drained.connections.size === 0 && !drained.accepting) drained.resolve();
  }

  /**
   * Ask `connections` to finish what is in flight and close; resolves when all have closed — not
   * before `accepting` settles (the listeners' last accepts may add to them). After `timeout`
   * seconds, whatever is left is destroyed.
   */
  async #drain(connections: Set<Connection>, timeout: number, accepting: Promise<void> = Promise.resolve()): Promise<void> {
    const started = Date.now();
    let resolveAll!: () => void;
    const allClosed = new Promise<void>((resolve) => (resolveAll = resolve));
    // An idle connection's last call ends within half the bound, so it closes on its own.
    const drained = { connections, resolve: resolveAll, lastCallBy: started + timeout * 500, accepting: true };
    this.#drained = drained;
    for (const conn of connections) conn.retire(drained.lastCallBy);
    await accepting;
    drained.accepting = false;
    if (connections.size === 0) resolveAll();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, started + timeout * 1000 - Date.now()));
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    if (connections.size > 0) {
      this.#logs.rocket.warn(`${connections.size} connection(s) still busy after ${timeout} s; closing them`);
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
    const drainDelay = options.drainDelay ?? this.options.drainDelay;
    this.#stopping = this.#stop(timeout, drainDelay).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(timeout: number, drainDelay: number): Promise<void> {
    if (this.#starting !== null) await this.#starting.catch(() => {});
    if (this.#restarting !== null) await this.#restarting.catch(() => {});
    if (this.#state === State.Stopped) return;
    this.#state = State.Stopping;
    this.#draining = true;
    this.#logs.rocket.info(`Stopping Rocket ${this.options.serverSoftware}`);
    if (this.#supervisor !== null) {
      await this.#supervisor.stop(timeout, drainDelay);
      this.#supervisor = null;
      this.#finishStop();
      return;
    }
    const detachWorker = this.#detachWorker;
    this.#detachWorker = null;
    detachWorker?.();
    if (drainDelay > 0) {
      // A load balancer goes on sending new connections until it notices the readiness probe
      // (or the orchestrator removes the endpoint): they are served, each response closing its
      // connection, so that clients reconnect elsewhere.
      this.#logs.rocket.info(`Draining: serving ${drainDelay} s more before closing the listeners`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainDelay * 1000);
        this.#endDrainDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#endDrainDelay = null;
    }
    const accepting = Promise.all(this.#listeners.map((listener) => listener.closeAfterPendingAccepts())).then(() => {});
    await this.#drain(new Set(this.#connections), timeout, accepting);
    for (const listener of this.#listeners) listener.destroyHandshakes();
    for (const socket of this.#upgraded) socket.destroy();
    this.#monitor.close();
    this.#pool.stop();
    await this.#executor?.shutdown();
    this.#finishStop();
    // A worker stopped by a signal of its own (systemd signals every process of the unit, a
    // terminal the whole group) would stay alive on its channel to the primary, whose stop would
    // then wait for it until it is killed.
    if (detachWorker !== null && process.connected) process.disconnect();
  }

  #finishStop(): void {
    this.#removeSignalHandlers?.();
    this.#removeSignalHandlers = null;
    this.#state = State.Stopped;
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Close every connection now, in-flight requests included (a second SIGINT). */
  #forceClose(): void {
    this.#endDrainDelay?.();
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
    this.#logs.rocket.info(`Restarting Rocket ${this.options.serverSoftware}`);
    if (this.#supervisor !== null) {
      try {
        await this.#supervisor.reload(timeout);
        this.#logs.rocket.info(`Restarted every worker: ${this.#supervisor.size} serving`);
      } finally {
        this.#state = State.Running;
      }
      return;
    }
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
  /**
   * Change options of a server that may be running, checked as the constructor checks them; either
   * all changes apply or, when one is refused, none. Only the options read while serving can
   * change (`LIVE_OPTIONS`: deadlines, size limits, keep-alive, protocol, serverSoftware,
   * onClientError); they apply from the next request, deadline or read on.
   * @throws {RocketError} ROCKET_ERR_INVALID_OPTION naming the option.
   * @example
   * server.updateOptions({ timeout: 30, maxBodySize: 1 << 20 });
   */
  updateOptions(changes: RocketOptions): void {
    const checked = checkOptionChanges(changes);
    Object.assign(this.options, checked);
    if (checked.maxConnections !== undefined) {
      for (const listener of this.#listeners) if (listener !== this.#metricsListener) listener.setMaxConnections(checked.maxConnections);
    }
  }

  unref(): void {
    for (const listener of this.#listeners) listener.unref();
  }

  ref(): void {
    for (const listener of this.#listeners) listener.ref();
  }

  /** A JSON-able snapshot of connections, the pool, requests, errors, bytes and latency. */
  stats(): RocketStats {
    if (this.#supervisor !== null) return combineStats(STATE_NAMES[this.#state], this.#supervisor.reports());
    return serverStats(STATE_NAMES[this.#state], this.#connections, this.#metrics, this.#pool.stats(), { accepted: this.#accepted, rejected: this.#rejected });
  }

  /**
   * The metrics in Prometheus text format (what `metricsPath` and `metricsInterface` serve). With
   * `workers`, in the primary: every worker's, as last reported, each labelled `worker`.
   */
  metrics(): string {
    if (this.#supervisor !== null) {
      return prometheusTextOf(this.#supervisor.reports().flatMap((r) => ((r.stats as { source?: MetricsSource } | null)?.source ? [(r.stats as { source: MetricsSource }).source] : [])));
    }
    return prometheusTextOf([this.#metricsSource()]);
  }

  #metricsSource(): MetricsSource {
    const worker = workerNumber();
    return metricsSource(this.stats(), this.#metrics, worker === 0 ? null : String(worker));
  }

  /** A scrape: in a worker, every worker's metrics, gathered through the primary. */
  #scrape(): string | Promise<string> {
    if (this.#detachWorker === null) return this.metrics();
    return gatherMetrics(() => this.#metricsSource()).then(prometheusTextOf);
  }

  /** The access log's line builder for the current format, compiled once per format; null when off. */
  #accessLine(): ((record: AccessRecord) => string) | null {
    const format = this.options.accessLog;
    if (format === false) return null;
    if (this.#accessFormat?.format !== format) {
      try {
        this.#accessFormat = { format, line: compileAccessFormat(format) };
      } catch (error) {
        throw new RocketError('ROCKET_ERR_INVALID_OPTION', `accessLog: ${(error as Error).message}`);
      }
    }
    return this.#accessFormat.line;
  }
}

/** A reset while a connection waits for the start to finish: 'close' follows and that is all. */
function ignoreError(): void {}
