/**
 * Rocket's log channels over any logger.
 *
 * | channel                   | what goes there                                                  |
 * |---------------------------|------------------------------------------------------------------|
 * | `Rocket`                  | server events: starting, listening (`*` marks TLS), stopping, signals |
 * | `Rocket.Errors`           | application errors, refused requests (debug), internal errors    |
 * | `Rocket.Errors.Port<n>`   | one per listener: bind errors, TLS handshakes that failed        |
 * | `Rocket.Errors.ThreadPool`| the worker pool growing and shrinking                            |
 * | `Rocket.Monitor`          | deadlines that fired: slow heads, stalled bodies, stopped readers |
 * | `Rocket.Requests`         | the access log, one line per response                            |
 *
 * A logger with `child()` (pino, winston, bunyan) gets one child per channel, `{ channel }`
 * bound; any other logger (`console`) gets the channel as a prefix — except access lines, which
 * stay as they are. Levels are filtered per channel before the logger sees anything.
 */

/** Anything with the four usual level methods: `console`, pino, winston, bunyan… */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** One channel: the four levels, with the channel's threshold applied. */
export class LogChannel implements Logger {
  readonly name: string;
  readonly #target: Logger;
  readonly #prefix: string;
  readonly #threshold: number;

  constructor(name: string, logger: Logger, threshold: LogLevel) {
    this.name = name;
    const withChild = logger as Logger & { child?: (bindings: object) => Logger };
    if (typeof withChild.child === 'function') {
      this.#target = withChild.child({ channel: name });
      this.#prefix = '';
    } else {
      this.#target = logger;
      this.#prefix = name === 'Rocket.Requests' ? '' : `${name}: `;
    }
    this.#threshold = RANK[threshold];
  }

  /** True if a message at `level` would be passed on (to skip building expensive ones). */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return RANK[level] >= this.#threshold;
  }

  debug(message: string): void {
    if (this.#threshold <= 10) this.#target.debug(this.#prefix + message);
  }

  info(message: string): void {
    if (this.#threshold <= 20) this.#target.info(this.#prefix + message);
  }

  warn(message: string): void {
    if (this.#threshold <= 30) this.#target.warn(this.#prefix + message);
  }

  error(message: string): void {
    if (this.#threshold <= 40) this.#target.error(this.#prefix + message);
  }
}

/** The channels of one server. */
export class LogChannels {
  readonly rocket: LogChannel;
  readonly errors: LogChannel;
  readonly pool: LogChannel;
  readonly monitor: LogChannel;
  readonly requests: LogChannel;
  readonly #logger: Logger;
  readonly #levels: Readonly<Record<string, LogLevel>>;
  readonly #default: LogLevel;
  readonly #ports = new Map<string, LogChannel>();

  /**
   * @param levels per-channel thresholds; a channel without its own takes its parent's
   *   (`Rocket.Errors` covers `Rocket.Errors.Port8000`), and the root takes `fallback`.
   */
  constructor(logger: Logger, levels: Readonly<Record<string, LogLevel>>, fallback: LogLevel) {
    this.#logger = logger;
    this.#levels = levels;
    this.#default = fallback;
    this.rocket = this.channel('Rocket');
    this.errors = this.channel('Rocket.Errors');
    this.pool = this.channel('Rocket.Errors.ThreadPool');
    this.monitor = this.channel('Rocket.Monitor');
    this.requests = this.channel('Rocket.Requests');
  }

  /** `Rocket.Errors.Port<port>` (or `…Port<path>` for a UNIX socket), made once. */
  port(port: number | string): LogChannel {
    const name = `Rocket.Errors.Port${port}`;
    let channel = this.#ports.get(name);
    if (channel === undefined) {
      channel = this.channel(name);
      this.#ports.set(name, channel);
    }
    return channel;
  }

  channel(name: string): LogChannel {
    return new LogChannel(name, this.#logger, this.levelOf(name));
  }

  /** The threshold of `name`: its own, else its nearest ancestor's, else the default. */
  levelOf(name: string): LogLevel {
    for (let prefix = name; ; ) {
      const level = this.#levels[prefix];
      if (level !== undefined) return level;
      const dot = prefix.lastIndexOf('.');
      if (dot === -1) return this.#default;
      prefix = prefix.slice(0, dot);
    }
  }
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
