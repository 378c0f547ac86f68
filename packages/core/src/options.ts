/**
 * The one table of Rocket's options: name, default, check, and the line of documentation the
 * README and `rocket --help` show. Every option passes through {@link resolveOptions} exactly once;
 * unknown names and bad values throw a {@link RocketError} that names them.
 */

import { hostname } from 'node:os';
import type { AccessLogFormat } from './observability/access-log.js';
import type { ClientErrorHook } from './gateway/client-error.js';
import type { ConnectionInfo } from './gateway/environ.js';
import { LOG_LEVELS, type Logger, type LogLevel } from './observability/logging.js';
import { RocketError } from './errors.js';
import { VERSION } from './version.js';
import { AddressList } from './http/ip.js';


export interface RocketOptions {
  /** Workers kept ready; a worker serves one connection at a time. Default 10. */
  minThreads?: number;
  /** Most workers; 0 = no limit. Default 0. */
  maxThreads?: number;
  /** Connections waiting for a worker; beyond, new connections get 503. Default 1024. */
  queueSize?: number;
  /** Seconds a request may wait for a worker before it gets 503; 0 = no limit. Default 30. */
  queueTimeout?: number;
  /** Seconds a keep-alive connection may sit idle between requests (Rocket's `timeout`). Default 600. */
  timeout?: number;
  /** Seconds from the first byte of a request head to its end (the slowloris guard). Default 30. */
  headerTimeout?: number;
  /** Seconds without a byte from the client while a head or an awaited body is read, or a response waits for the client to read. Default 10. */
  socketTimeout?: number;
  /** Seconds from the first byte of a request to the end of its body; 0 = no limit. Default 0. */
  requestTimeout?: number;
  /** Requests served on one connection; the last response carries `Connection: close`, and requests already received beyond it get 503. 0 = no limit. Default 0. */
  maxRequestsPerConnection?: number;
  /** Connections open at once on each interface; beyond, a new one is closed as soon as it is accepted. 0 = no limit. Default 0. */
  maxConnections?: number;
  /** Seconds `stop()` waits for in-flight requests before it closes what is left. Default 30. */
  shutdownTimeout?: number;
  /** Stop on SIGTERM and SIGINT (a second SIGINT forces it), restart on SIGHUP and SIGUSR1. Default true. */
  handleSignals?: boolean;
  /** Server processes on Node's `cluster`, supervised by the process that starts them; `'auto'` = one per core; 0 = serve in this process. Default 0. */
  workers?: number | 'auto';
  /** Each worker listens on a socket of its own (`SO_REUSEPORT`) and the system spreads connections; needs Node.js ≥ 22.12 or ≥ 23.1. Default false. */
  reusePort?: boolean;
  /** The listen backlog of each interface. Default 511. */
  backlog?: number;
  /** Send small writes at once (TCP_NODELAY) rather than wait to coalesce them. Default true. */
  noDelay?: boolean;
  /** An interface on `::` accepts IPv6 connections only, not IPv4 ones too (IPV6_V6ONLY). Default false. */
  ipv6Only?: boolean;
  /** Longest request-line in bytes (414 beyond). Default 8192. */
  maxRequestLine?: number;
  /** Largest header section in bytes (431 beyond). Default 16384. */
  maxHeaderSize?: number;
  /** Most header fields in a request (431 beyond). Default 100. */
  maxHeaders?: number;
  /** Largest request body in bytes; 0 = no limit (413 beyond). Default 1 GiB. */
  maxBodySize?: number;
  /** Most bytes of chunk extensions in one request (413 beyond). Default 16384. */
  maxChunkExtensions?: number;
  /** Most bytes of an unread request body discarded to keep the connection; beyond, it closes. Default 262144. */
  maxDrainSize?: number;
  /** `SERVER_NAME` in the environ. Default: the machine's host name. */
  serverName?: string;
  /** `SERVER_SOFTWARE` and the `Server` response header; `''` sends no `Server` header. Default `Rocket/<version>`. */
  serverSoftware?: string;
  /** The protocol this server speaks, on every status line: `'HTTP/1.0'` never chunks and keeps a connection only when asked. Default `'HTTP/1.1'`. */
  protocol?: 'HTTP/1.1' | 'HTTP/1.0';
  /** `'explicit'`: every response says `Connection: keep-alive` (with the `Keep-Alive` hint) or `close`; `'minimal'`: only what the protocol needs. Default `'explicit'`. */
  connectionHeaders?: 'explicit' | 'minimal';
  /** Send `100 Continue` as soon as a request asks for it, instead of when the app first reads the body. Default false. */
  eagerContinue?: boolean;
  /** Refuse an HTTP/1.1 request without a `Host` header field (400), as RFC 9112 requires. Default true. */
  requireHost?: boolean;
  /** Most idle keep-alive connections; a response that would make one more says `Connection: close`. 0 = no limit. Default 0. */
  maxIdleConnections?: number;
  /** A new connection that sends no request within `socketTimeout` is answered `408 Request Timeout` before it closes. Default false. */
  idle408?: boolean;
  /** Where server messages go: any object with debug/info/warn/error (and child()). Default: warnings and errors on stderr, the access log on stdout. */
  logger?: Logger;
  /** The least level passed to the logger, for every channel without its own. Default `'info'`. */
  logLevel?: LogLevel;
  /** Levels per channel (`{ 'Rocket.Monitor': 'debug' }`); a channel takes its parent's when it has none. Default `{}`. */
  logLevels?: Record<string, LogLevel>;
  /** The access log (channel `Rocket.Requests`): `'rocket'`, `'common'`, `'combined'` or a format string; false for none. Default false. */
  accessLog?: AccessLogFormat | false;
  /** With `appInfo.futures`: tasks of `wsgiorg.executor` run at once on the event loop. Default 10. */
  futuresThreads?: number;
  /** With `appInfo.futures`: worker threads for tasks given as a module and an export. Default 0. */
  futuresWorkerThreads?: number;
  /** Serve the metrics in Prometheus text format at this path on every interface; '' for none. Default ''. */
  metricsPath?: string;
  /** Serve the metrics on an interface of their own (`['127.0.0.1', 9100]`), at any path. Default none. */
  metricsInterface?: unknown;
  /** Answers requests refused before any app saw them, instead of Rocket's own response. Default none. */
  onClientError?: ClientErrorHook | null;
  /** Told of every connection accepted, before it is read (node:http's 'connection' event). Default none. */
  onConnection?: ((connection: ConnectionInfo) => void) | null;
  /** Told of every connection closed at once because an interface had `maxConnections` open (net.Server's 'drop'). Default none. */
  onDrop?: ((connection: DroppedConnection) => void) | null;
  /** Expect a PROXY protocol header (`'v1'`, `'v2'` or either, `'auto'`) on every interface from the peers of `proxyAllowIps`. Default false. */
  proxyProtocol?: false | 'v1' | 'v2' | 'auto';
  /** Who may send a PROXY header: addresses and CIDR networks, comma-separated or a list; `'*'` = anyone. Default `'127.0.0.1,::1'`. */
  proxyAllowIps?: string | readonly string[];
  /** Peers whose `Forwarded` / `X-Forwarded-*` headers set REMOTE_ADDR, the URL scheme and the host for gateway apps; `''` = none, `'*'` = anyone. Default `'127.0.0.1,::1'`. */
  forwardedAllowIps?: string | readonly string[];
  /** Answer this path with 200 while serving and 503 from the moment a stop begins (a readiness probe); '' for none. Default ''. */
  readinessPath?: string;
  /** Answer this path with 200 while the process serves, draining included (a liveness probe); '' for none. Default ''. */
  livenessPath?: string;
  /** Seconds a stop keeps serving, readiness answering 503, before it closes the listeners. Default 0. */
  drainDelay?: number;
  /** The file mode of UNIX socket interfaces, such as 0o660 (or '660' on the command line); null leaves the umask's. Default null. */
  unixSocketMode?: number | null;
}

export type ResolvedOptions = Required<RocketOptions>;

/** The addresses of a connection dropped for `maxConnections`, as net.Server's `'drop'` event gives them. */
export interface DroppedConnection {
  localAddress?: string;
  localPort?: number;
  localFamily?: string;
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: string;
}

interface OptionSpec<K extends keyof RocketOptions> {
  /** Default value, or a function computing it. */
  default: () => ResolvedOptions[K];
  /** Returns an error text when the value is not acceptable. */
  check: (value: unknown) => string | undefined;
  /** One line for the README and `--help`. */
  doc: string;
  /** Value placeholder for the command line; omitted for options the CLI does not expose. */
  arg?: string;
}

const count = (min: number) => (v: unknown) =>
  Number.isSafeInteger(v) && (v as number) >= min ? undefined : `must be an integer ≥ ${min}`;
const seconds = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a number of seconds ≥ 0';
const text = (v: unknown) => (typeof v === 'string' ? undefined : 'must be a string');
const flag = (v: unknown) => (typeof v === 'boolean' ? undefined : 'must be true or false');
/** Text that goes into a response header: printable characters only, so it cannot split a head. */
const headerText = (v: unknown) =>
  typeof v === 'string' && /^[\x20-\x7e\x80-\xff]*$/.test(v) ? undefined : 'must be a string of printable characters';

/** A comma-separated list or an array of addresses, networks and `*`, checked by parsing it. */
const addressList = (v: unknown) => {
  if (typeof v !== 'string' && !(Array.isArray(v) && v.every((item) => typeof item === 'string'))) return 'must be a comma-separated string or a list of addresses and networks';
  try {
    AddressList.parse(v as string | string[]);
    return undefined;
  } catch (error) {
    return `has ${(error as Error).message}`;
  }
};
const probePath = (v: unknown) => (v === '' || (typeof v === 'string' && v.startsWith('/')) ? undefined : "must be '' or a path starting with /");

/** Every option Rocket accepts. */
export const OPTIONS: { readonly [K in keyof RocketOptions]-?: OptionSpec<K> } = {
  minThreads: { default: () => 10, check: count(1), doc: 'workers kept ready; a worker serves one connection at a time', arg: 'N' },
  maxThreads: { default: () => 0, check: count(0), doc: 'most workers; 0 = no limit', arg: 'N' },
  queueSize: { default: () => 1024, check: count(0), doc: 'connections waiting for a worker; beyond, new connections get 503', arg: 'N' },
  queueTimeout: { default: () => 30, check: seconds, doc: 'seconds a request may wait for a worker (503 after); 0 = no limit', arg: 'S' },
  timeout: { default: () => 600, check: seconds, doc: 'seconds a keep-alive connection may stay idle between requests; 0 = forever', arg: 'S' },
  headerTimeout: { default: () => 30, check: seconds, doc: 'seconds from the first byte of a request head to its end (408); 0 = no limit', arg: 'S' },
  socketTimeout: { default: () => 10, check: seconds, doc: 'seconds without a byte while a head or awaited body is read, or a response waits (408); 0 = forever', arg: 'S' },
  requestTimeout: { default: () => 0, check: seconds, doc: 'seconds from the first byte of a request to the end of its body (408); 0 = no limit', arg: 'S' },
  maxRequestsPerConnection: {
    default: () => 0,
    check: count(0),
    doc: 'requests per connection, the last one answered with Connection: close and any already received after it with 503; 0 = no limit',
    arg: 'N',
  },
  maxConnections: { default: () => 0, check: count(0), doc: 'connections open at once on each interface; beyond, a new one is closed when accepted; 0 = no limit', arg: 'N' },
  shutdownTimeout: { default: () => 30, check: seconds, doc: 'seconds stop() waits for in-flight requests before closing the rest', arg: 'S' },
  handleSignals: { default: () => true, check: flag, doc: 'SIGTERM/SIGINT stop gracefully (a second SIGINT forces), SIGHUP/SIGUSR1 restart' },
  workers: {
    default: () => 0,
    check: (v) => (v === 'auto' || (Number.isSafeInteger(v) && (v as number) >= 0) ? undefined : "must be an integer ≥ 0 or 'auto'"),
    doc: "server processes (Node's cluster) supervised by this one; 'auto' = one per core; 0 = this process serves",
    arg: 'N',
  },
  reusePort: { default: () => false, check: flag, doc: 'each worker listens on its own socket (SO_REUSEPORT); Node.js >= 22.12 or >= 23.1' },
  backlog: { default: () => 511, check: count(1), doc: 'listen backlog of each interface', arg: 'N' },
  noDelay: { default: () => true, check: flag, doc: 'TCP_NODELAY on every connection: small writes go out at once' },
  ipv6Only: { default: () => false, check: flag, doc: 'an interface on :: accepts IPv6 connections only, not IPv4 ones too' },
  maxRequestLine: { default: () => 8192, check: count(16), doc: 'longest request-line in bytes (414)', arg: 'BYTES' },
  maxHeaderSize: { default: () => 16384, check: count(64), doc: 'largest header section in bytes (431)', arg: 'BYTES' },
  maxHeaders: { default: () => 100, check: count(1), doc: 'most header fields in a request (431)', arg: 'N' },
  maxBodySize: { default: () => 1024 ** 3, check: count(0), doc: 'largest request body in bytes; 0 = no limit (413)', arg: 'BYTES' },
  maxChunkExtensions: { default: () => 16384, check: count(0), doc: 'most bytes of chunk extensions in one request (413)', arg: 'BYTES' },
  maxDrainSize: { default: () => 256 * 1024, check: count(0), doc: 'most bytes of an unread request body discarded to keep a connection open', arg: 'BYTES' },
  serverName: { default: () => hostname(), check: text, doc: 'SERVER_NAME in the environ (default: the host name)', arg: 'NAME' },
  serverSoftware: { default: () => `Rocket/${VERSION}`, check: headerText, doc: "SERVER_SOFTWARE and the Server header; '' sends no Server header", arg: 'TEXT' },
  protocol: {
    default: () => 'HTTP/1.1',
    check: (v) => (v === 'HTTP/1.1' || v === 'HTTP/1.0' ? undefined : "must be 'HTTP/1.1' or 'HTTP/1.0'"),
    doc: "the protocol on every status line; 'HTTP/1.0' never chunks and keeps a connection only when the client asks",
    arg: 'VERSION',
  },
  connectionHeaders: {
    default: () => 'explicit',
    check: (v) => (v === 'explicit' || v === 'minimal' ? undefined : "must be 'explicit' or 'minimal'"),
    doc: "'explicit': every response says Connection: keep-alive (with the Keep-Alive hint) or close; 'minimal': only what the protocol needs",
    arg: 'STYLE',
  },
  eagerContinue: { default: () => false, check: flag, doc: 'send 100 Continue as soon as a request asks, not when the app first reads the body' },
  requireHost: { default: () => true, check: flag, doc: 'refuse an HTTP/1.1 request without a Host header field (400, RFC 9112 §3.2)' },
  maxIdleConnections: { default: () => 0, check: count(0), doc: 'most idle keep-alive connections; beyond, the response says Connection: close; 0 = no limit', arg: 'N' },
  idle408: { default: () => false, check: flag, doc: 'answer a new connection that sends no request within socketTimeout with 408 before closing it' },
  logger: { default: () => defaultLogger, check: checkLogger, doc: 'an object with debug/info/warn/error (console, pino, winston…)' },
  logLevel: {
    default: () => 'info',
    check: (v) => (LOG_LEVELS.includes(v as LogLevel) ? undefined : `must be one of ${LOG_LEVELS.join(', ')}`),
    doc: 'the least level logged on every channel without its own: debug, info, warn, error or silent',
    arg: 'LEVEL',
  },
  logLevels: {
    default: () => ({}),
    check: (v) =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((l) => LOG_LEVELS.includes(l as LogLevel))
        ? undefined
        : `must map channel names to one of ${LOG_LEVELS.join(', ')}`,
    doc: "levels per channel, e.g. { 'Rocket.Monitor': 'debug' }",
  },
  accessLog: {
    default: () => false,
    check: (v) => (v === false || (typeof v === 'string' && v !== '') ? undefined : "must be false, 'rocket', 'common', 'combined' or a format string"),
    doc: "the access log: 'rocket', 'common', 'combined' or a format of % directives",
    arg: 'FORMAT',
  },
  futuresThreads: { default: () => 10, check: count(1), doc: "with appInfo.futures: wsgiorg.executor's tasks running at once", arg: 'N' },
  futuresWorkerThreads: { default: () => 0, check: count(0), doc: 'with appInfo.futures: worker threads for CPU-bound tasks ({ module, export })', arg: 'N' },
  metricsPath: {
    default: () => '',
    check: (v) => (v === '' || (typeof v === 'string' && v.startsWith('/')) ? undefined : "must be '' or a path starting with /"),
    doc: 'serve Prometheus metrics at this path on every interface',
    arg: 'PATH',
  },
  metricsInterface: {
    default: () => null,
    check: () => undefined,
    doc: 'serve Prometheus metrics on an interface of their own, e.g. [\'127.0.0.1\', 9100]',
  },
  onClientError: {
    default: () => null,
    check: (v) => (v === null || typeof v === 'function' ? undefined : 'must be a function or null'),
    doc: "(error, reply) => boolean: answer a request refused before any app saw it; true = answered (node:http's 'clientError')",
  },
  onConnection: {
    default: () => null,
    check: (v) => (v === null || typeof v === 'function' ? undefined : 'must be a function or null'),
    doc: "(connection) => void: told of every connection accepted, before it is read (node:http's 'connection')",
  },
  onDrop: {
    default: () => null,
    check: (v) => (v === null || typeof v === 'function' ? undefined : 'must be a function or null'),
    doc: "(connection) => void: told of every connection closed for maxConnections, with its addresses (net.Server's 'drop')",
  },
  proxyProtocol: {
    default: () => false,
    check: (v) => (v === false || v === 'v1' || v === 'v2' || v === 'auto' ? undefined : "must be false, 'v1', 'v2' or 'auto'"),
    doc: "expect a PROXY protocol header ('v1', 'v2' or 'auto' for either) from the peers of proxyAllowIps; a header from anyone else closes the connection",
    arg: 'VERSION',
  },
  proxyAllowIps: {
    default: () => '127.0.0.1,::1',
    check: addressList,
    doc: "who may send a PROXY header: addresses and CIDR networks, comma-separated; '*' = anyone",
    arg: 'CIDRS',
  },
  forwardedAllowIps: {
    default: () => '127.0.0.1,::1',
    check: addressList,
    doc: "peers whose Forwarded / X-Forwarded-For, -Proto, -Host set REMOTE_ADDR, the URL scheme and the host of gateway apps; '' = none, '*' = anyone",
    arg: 'CIDRS',
  },
  readinessPath: { default: () => '', check: probePath, doc: 'answer this path 200 while serving, 503 from the moment a stop begins (readiness probe)', arg: 'PATH' },
  livenessPath: { default: () => '', check: probePath, doc: 'answer this path 200 while the process serves, draining included (liveness probe)', arg: 'PATH' },
  drainDelay: { default: () => 0, check: seconds, doc: 'seconds a stop keeps serving (readiness 503) before closing the listeners', arg: 'S' },
  unixSocketMode: {
    default: () => null,
    check: (v) => (v === null || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0o777) ? undefined : 'must be a file mode from 0 to 0o777, such as 0o660'),
    doc: "file mode of UNIX socket interfaces, in octal on the command line (660); default: the umask's",
    arg: 'MODE',
  },
};

function checkLogger(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'must be an object with debug, info, warn and error methods';
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (v as Record<string, unknown>)[level] !== 'function') return `has no ${level}() method`;
  }
  return undefined;
}

/** Warnings and errors to stderr, one line each; debug and info are dropped. */
const quietLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.warn(`rocket: ${message}`, ...args),
  error: (message, ...args) => console.error(`rocket: ${message}`, ...args),
};

/** The access log, line by line, on stdout. */
const accessLogger: Logger = {
  ...quietLogger,
  info: (message) => void process.stdout.write(`${message}\n`),
};

/** Warnings and errors on stderr; the access log (when one is enabled) on stdout. */
export const defaultLogger: Logger & { child(bindings: { channel?: string }): Logger } = {
  ...quietLogger,
  child: (bindings) => (bindings.channel === 'Rocket.Requests' ? accessLogger : quietLogger),
};

/**
 * Check `options` against the table and fill in defaults.
 * @throws {RocketError} ROCKET_ERR_INVALID_OPTION naming the option and the value.
 */
export function resolveOptions(options: RocketOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new RocketError('ROCKET_ERR_INVALID_OPTION', 'Rocket options must be an object');
  }
  const given = (options ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(OPTIONS, name)) {
      throw new RocketError('ROCKET_ERR_INVALID_OPTION', `unknown option "${name}"`);
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [keyof RocketOptions, OptionSpec<keyof RocketOptions>][]) {
    const value = given[name];
    if (value === undefined) {
      resolved[name] = spec.default();
      continue;
    }
    const problem = spec.check(value);
    if (problem !== undefined) {
      throw new RocketError('ROCKET_ERR_INVALID_OPTION', `option ${name} ${problem} (got ${describe(value)})`);
    }
    resolved[name] = value;
  }
  return resolved as ResolvedOptions;
}

/**
 * The options a running server reads as it serves — deadlines, size limits, keep-alive, the
 * protocol spoken, the Server header, the onClientError hook, the connection limit — and so the ones
 * `Rocket.updateOptions()` may change. The rest shaped listeners, the pool or the logs when the
 * server was built.
 */
export const LIVE_OPTIONS: ReadonlySet<keyof RocketOptions> = new Set<keyof RocketOptions>([
  'timeout',
  'socketTimeout',
  'headerTimeout',
  'requestTimeout',
  'queueTimeout',
  'protocol',
  'serverSoftware',
  'connectionHeaders',
  'maxBodySize',
  'maxHeaderSize',
  'maxRequestLine',
  'maxHeaders',
  'maxChunkExtensions',
  'maxDrainSize',
  'maxIdleConnections',
  'maxRequestsPerConnection',
  'maxConnections',
  'idle408',
  'eagerContinue',
  'onClientError',
]);

/**
 * Check changes to a running server's options against the same table as `resolveOptions`; an
 * undefined value changes nothing.
 * @throws {RocketError} ROCKET_ERR_INVALID_OPTION naming the option: unknown, fixed once the
 * server is built, or a bad value.
 */
export function checkOptionChanges(changes: RocketOptions): Partial<ResolvedOptions> {
  if (typeof changes !== 'object' || changes === null) {
    throw new RocketError('ROCKET_ERR_INVALID_OPTION', 'Rocket options must be an object');
  }
  const checked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(changes) as [keyof RocketOptions, unknown][]) {
    if (!Object.hasOwn(OPTIONS, name)) throw new RocketError('ROCKET_ERR_INVALID_OPTION', `unknown option "${name}"`);
    if (value === undefined) continue;
    if (!LIVE_OPTIONS.has(name)) {
      throw new RocketError('ROCKET_ERR_INVALID_OPTION', `option ${name} cannot be changed on a running server`);
    }
    const problem = OPTIONS[name].check(value);
    if (problem !== undefined) {
      throw new RocketError('ROCKET_ERR_INVALID_OPTION', `option ${name} ${problem} (got ${describe(value)})`);
    }
    checked[name] = value;
  }
  return checked as Partial<ResolvedOptions>;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
