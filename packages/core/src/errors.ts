/**
 * Every error Rocket creates on purpose.
 *
 * Two families:
 * - {@link HttpError}: something a client sent is wrong. It carries the status the server answers
 *   with and a stable `code`; the message is safe to show the client (it never echoes client bytes).
 * - {@link RocketError}: something the operator configured or called is wrong (bad option, an
 *   interface that cannot bind, a certificate file that cannot be read).
 *
 * Both are recognised by a `Symbol.for` brand, so `instanceof` keeps working when two copies of the
 * package end up in one process.
 */

const kHttpError = Symbol.for('rocketserver.HttpError');
const kRocketError = Symbol.for('rocketserver.RocketError');

/** Stable codes of the errors a request can end in. */
export type HttpErrorCode =
  | 'ROCKET_ERR_BAD_REQUEST_LINE'
  | 'ROCKET_ERR_BAD_METHOD'
  | 'ROCKET_ERR_BAD_TARGET'
  | 'ROCKET_ERR_BAD_VERSION'
  | 'ROCKET_ERR_VERSION_NOT_SUPPORTED'
  | 'ROCKET_ERR_REQUEST_LINE_TOO_LONG'
  | 'ROCKET_ERR_BAD_HEADER'
  | 'ROCKET_ERR_OBS_FOLD'
  | 'ROCKET_ERR_BARE_LF'
  | 'ROCKET_ERR_BARE_CR'
  | 'ROCKET_ERR_HEADER_TOO_LARGE'
  | 'ROCKET_ERR_TOO_MANY_HEADERS'
  | 'ROCKET_ERR_BAD_HOST'
  | 'ROCKET_ERR_BAD_CONTENT_LENGTH'
  | 'ROCKET_ERR_BAD_TRANSFER_ENCODING'
  | 'ROCKET_ERR_UNSUPPORTED_TRANSFER_CODING'
  | 'ROCKET_ERR_TE_WITH_CONTENT_LENGTH'
  | 'ROCKET_ERR_BODY_TOO_LARGE'
  | 'ROCKET_ERR_BAD_CHUNK'
  | 'ROCKET_ERR_INCOMPLETE_BODY'
  | 'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE'
  | 'ROCKET_ERR_BAD_TRAILER'
  | 'ROCKET_ERR_EXPECTATION_FAILED'
  | 'ROCKET_ERR_METHOD_NOT_IMPLEMENTED'
  | 'ROCKET_ERR_TIMEOUT'
  | 'ROCKET_ERR_OVERLOADED';

/**
 * A request the server refuses. `status` is what the client gets; `code` is for logs and tests.
 *
 * @example
 * throw new HttpError(400, 'ROCKET_ERR_BAD_HEADER', 'whitespace before the colon in a header field');
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpErrorCode;

  constructor(status: number, code: HttpErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }

  get [kHttpError](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kHttpError] === true;
  }
}

/** Stable codes of operator-facing errors. */
export type RocketErrorCode =
  | 'ROCKET_ERR_INVALID_OPTION'
  | 'ROCKET_ERR_INVALID_INTERFACE'
  | 'ROCKET_ERR_INVALID_APP'
  | 'ROCKET_ERR_TLS_FILE'
  | 'ROCKET_ERR_BIND'
  | 'ROCKET_ERR_STATE'
  | 'ROCKET_ERR_WORKER'
  | 'ROCKET_ERR_START_RESPONSE'
  | 'ROCKET_ERR_RESPONSE'
  | 'ROCKET_ERR_RESPONSE_LENGTH';

/**
 * A configuration or usage error: bad option, interface that cannot bind, unreadable TLS file, or a
 * gateway app breaking the `start_response` contract. The message names the offending value.
 *
 * @example
 * new Rocket(['127.0.0.1', 70000]); // RocketError ROCKET_ERR_INVALID_INTERFACE: … port 70000 …
 */
export class RocketError extends Error {
  readonly code: RocketErrorCode;

  constructor(code: RocketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RocketError';
    this.code = code;
  }

  get [kRocketError](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kRocketError] === true;
  }
}

/** An error for a log line: its code (when it has one) and its stack. Never throws. */
export function describeError(error: unknown): string {
  try {
    if (!(error instanceof Error)) return String(error);
    const code = (error as { code?: unknown }).code;
    const text = error.stack ?? `${error.name}: ${error.message}`;
    return typeof code === 'string' ? `[${code}] ${text}` : text;
  } catch {
    // Thrown things can be anything, even objects without a prototype or with a throwing toString.
    return Object.prototype.toString.call(error);
  }
}
