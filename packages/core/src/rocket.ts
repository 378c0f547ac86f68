/**
 * `Rocket`: the server. Owns the listeners, the monitor and the open connections, and runs the
 * lifecycle: stopped → starting → running → stopping → stopped.
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
import { Listener, type BoundAddress } from './listener.js';
import { Monitor } from './monitor.js';
import { resolveOptions, type Logger, type ResolvedOptions, type RocketOptions } from './options.js';

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
  Stopping,
}

/** A JSON-able snapshot of the server. */
export interface RocketStats {
  state: 'stopped' | 'starting' | 'running' | 'stopping';
  connections: { open: number; accepted: number; idle: number };
  requests: { total: number };
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
  #listeners: Listener[];
  readonly #connections = new Set<Connection>();
  readonly #context: ServerContext;
  readonly #monitor: Monitor;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #nextConnectionId = 1;
  #accepted = 0;
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
    this.options = resolveOptions(options);
    this.#listeners = this.interfaces.map((spec) => new Listener(spec));
    const options_ = this.options;
    this.#monitor = new Monitor(monitorResolution(options_));
    const server = this;
    const serverInfo: ServerInfo = {
      serverName: options_.serverName,
      serverSoftware: options_.serverSoftware,
      multithread: options_.maxThreads !== 1,
      multiprocess: cluster.isWorker,
      errors: stderrStream,
      fileWrapper,
    };
    const headLimits: HeadLimits = {
      maxRequestLine: options_.maxRequestLine,
      maxHeaderSize: options_.maxHeaderSize,
      maxHeaders: options_.maxHeaders,
    };
    const chunkedLimits: ChunkedLimits = {
      maxBodySize: options_.maxBodySize,
      maxChunkExtensions: options_.maxChunkExtensions,
      maxTrailerSize: options_.maxHeaderSize,
      maxTrailers: options_.maxHeaders,
    };
    this.#context = {
      app: appInfo.wsgi_app,
      options: options_,
      logger: options_.logger,
      monitor: this.#monitor,
      serverInfo,
      headLimits,
      chunkedLimits,
      keepAliveHint: Math.floor(options_.timeout),
      get stopping() {
        return server.#state === State.Stopping;
      },
      connectionClosed: (conn) => {
        this.#connections.delete(conn);
      },
      requestCompleted: () => {
        this.#requests++;
      },
    };
  }

  /** What every interface is bound to, in the order given; empty until `start()` resolves. */
  get addresses(): BoundAddress[] {
    return this.#listeners.flatMap((listener) => (listener.address === null ? [] : [{ ...listener.address }]));
  }

  /**
   * Bind every interface and start serving. Resolves when all listen; if one cannot, the others
   * are closed again and the promise rejects with an error naming that interface.
   */
  start(): Promise<void> {
    if (this.#state === State.Running) return Promise.resolve();
    if (this.#state === State.Starting) return this.#starting!;
    if (this.#state === State.Stopping) {
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
    const settings = {
      handshakeTimeout: this.options.socketTimeout * 1000,
      backlog: 511,
      logger,
      nextConnectionId: () => this.#nextConnectionId++,
    };
    const onConnection = (socket: Socket, info: ConnectionInfo) => this.#accept(socket, info);
    const results = await Promise.allSettled(this.#listeners.map((listener) => listener.listen(settings, onConnection)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(this.#listeners.map((listener) => listener.close()));
      this.#state = State.Stopped;
      throw failure.reason;
    }
    this.#state = State.Running;
    logger.info(`Listening on sockets: ${this.#listeners.map((l) => l.spec.label).join(', ')}`);
  }

  #accept(socket: Socket, info: ConnectionInfo): void {
    if (this.#state !== State.Running) {
      socket.destroy();
      return;
    }
    this.#accepted++;
    this.#connections.add(new Connection(socket, this.#context, info));
  }

  /**
   * Stop: close the listeners and every connection. Safe before `start()` and when called twice;
   * resolves when everything is closed.
   */
  stop(): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    if (this.#state === State.Stopped) return Promise.resolve();
    this.#stopping = this.#stop().finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#starting !== null) await this.#starting.catch(() => {});
    if (this.#state === State.Stopped) return;
    this.#state = State.Stopping;
    this.options.logger.info('Stopping Rocket');
    const listenersClosed = Promise.all(this.#listeners.map((listener) => listener.close()));
    const connectionsClosed = [...this.#connections].map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (conn.socket.destroyed && conn.socket.closed) resolve();
          else conn.socket.once('close', () => resolve());
          conn.destroy();
        }),
    );
    await Promise.all([listenersClosed, ...connectionsClosed]);
    this.#monitor.close();
    this.#state = State.Stopped;
  }

  /** Stop, then start again on the same interfaces. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** A JSON-able snapshot of connections and requests. */
  stats(): RocketStats {
    let idle = 0;
    for (const conn of this.#connections) if (conn.idle) idle++;
    return {
      state: (['stopped', 'starting', 'running', 'stopping'] as const)[this.#state],
      connections: { open: this.#connections.size, accepted: this.#accepted, idle },
      requests: { total: this.#requests },
    };
  }
}

/** Deadlines are checked often enough that the shortest timeout is off by a tenth at most. */
function monitorResolution(options: ResolvedOptions): number {
  const shortest = Math.min(...[options.timeout, options.socketTimeout].filter((s) => s > 0).map((s) => s * 1000), 10_000);
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
