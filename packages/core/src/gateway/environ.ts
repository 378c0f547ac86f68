/**
 * The PEP 3333 environ of one request, built from a parsed head and facts about the connection.
 * Pure: no sockets are touched here; everything arrives as values.
 */

import { hexValue } from '../http/chars.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseChannel } from './response.js';

/** The `wsgi.input` stream: the request body, read asynchronously. */
export interface WsgiInput extends AsyncIterable<Buffer> {
  /** Up to `size` bytes (all that is left when omitted or negative); an empty Buffer at the end. */
  read(size?: number): Promise<Buffer>;
  /** One line including its `\n` (or the rest, at the end), at most `size` bytes when given. */
  readline(size?: number): Promise<Buffer>;
  /** Lines until the end of the body. */
  readlines(hint?: number): Promise<Buffer[]>;
}

/** PEP 3333's `wsgi.errors`: a text stream for error output. */
export interface WsgiErrors {
  write(text: string): void;
  writelines(lines: Iterable<string>): void;
  flush(): void;
}

/** TLS facts of a connection, present on TLS interfaces. */
export interface TlsInfo {
  /** `TLSv1.3`, … */
  protocol: string | null;
  cipher: string | null;
  alpnProtocol: string | false | null;
  /** True when the client presented a certificate that verified against the interface's CA. */
  authorized: boolean;
  /** The client certificate in PEM, or null when none was presented. */
  peerCertificatePem: string | null;
  /** The client certificate as `tls.TLSSocket.getPeerCertificate()` gives it (`{}` without one). */
  getPeerCertificate(detailed?: boolean): object;
  /** The server name the client asked for (SNI), or false. */
  servername: string | false;
  /** The cipher as `tls.TLSSocket.getCipher()` gives it (`name`, `standardName`, `version`). */
  getCipher(): { name: string; standardName: string; version: string } | undefined;
  /** The TLS session, as `tls.TLSSocket.getSession()` gives it. */
  getSession(): Buffer | undefined;
  /** Keying material (RFC 5705), as `tls.TLSSocket.exportKeyingMaterial()` gives it. */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer;
}

/**
 * What the environ knows about the connection a request came on (`rocket.connection`). One object
 * per connection, shared by all its requests.
 */
export interface ConnectionInfo {
  /** Increasing number per server, for logs. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * What a PROXY protocol header said, when the interface expects one and the peer sent it;
   * `remoteAddress`/`remotePort` are then its source, and the proxy's own address is `peerAddress`.
   */
  readonly proxy?: ProxiedConnection | null;
  readonly localAddress: string;
  readonly localPort: number;
  /** The port of the listener, as bound (`SERVER_PORT`). */
  readonly serverPort: number;
  readonly secure: boolean;
  readonly tls: TlsInfo | null;
  /**
   * Be told once when the connection has closed, whatever closed it. For objects that live as
   * long as the connection (the Node bridge's socket), not for requests: a request hears of a
   * client that leaves through `rocket.response`'s `onClose`.
   */
  onClose(listener: () => void): void;
  /** Close the connection now: a request in progress is cut off. */
  destroy(): void;
}

/** A connection that came through a proxy speaking the PROXY protocol. */
export interface ProxiedConnection {
  version: 1 | 2;
  /** `local`: the proxy's own connection (a health check); the addresses are the socket's. */
  command: 'proxy' | 'local';
  source: { address: string; port: number } | null;
  destination: { address: string; port: number } | null;
  /** The proxy: the socket's peer. */
  peerAddress: string;
  peerPort: number;
}

/** Server-wide facts every environ repeats. */
export interface ServerInfo {
  serverName: string;
  serverSoftware: string;
  multithread: boolean;
  multiprocess: boolean;
  errors: WsgiErrors;
  fileWrapper: unknown;
}

/**
 * The environ handed to a gateway app. PEP 3333 keys, Rocket's (`HTTPS`, `SSL_CLIENT_RAW_CERT`),
 * `REQUEST_URI`, and `rocket.*` extensions; `HTTP_*` keys for the request's header fields.
 */
export interface Environ {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  QUERY_STRING: string;
  CONTENT_TYPE: string;
  CONTENT_LENGTH: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  SERVER_SOFTWARE: string;
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  REQUEST_URI: string;
  HTTPS?: 'on';
  SSL_CLIENT_RAW_CERT?: string | null;
  'wsgi.version': readonly [1, 0];
  'wsgi.url_scheme': 'http' | 'https';
  'wsgi.input': WsgiInput;
  'wsgi.errors': WsgiErrors;
  'wsgi.multithread': boolean;
  'wsgi.multiprocess': boolean;
  'wsgi.run_once': boolean;
  'wsgi.file_wrapper': unknown;
  /** Header fields as received: name, value, name, value, … */
  'rocket.raw_headers': readonly string[];
  'rocket.connection': ConnectionInfo;
  /** The response, written by calls instead of a returned body. */
  'rocket.response': ResponseChannel;
  [key: string]: unknown;
}

const WSGI_VERSION = Object.freeze([1, 0] as const);

/**
 * Build the environ for `head`.
 *
 * - `PATH_INFO`: the path of the target, percent-decoded as UTF-8, except `%2F`, which stays
 *   encoded (normalised to upper case) so that an encoded slash is not mistaken for a separator.
 * - `QUERY_STRING`: raw text after the first `?`. `REQUEST_URI`: the target as sent.
 * - `HTTP_*`: one per field name; repeated fields joined with `, ` (`; ` for Cookie). Names with
 *   `_` get no `HTTP_*` key: `X_User` would otherwise pose as `X-User`.
 * - With an absolute-form target, `HTTP_HOST` is the target's authority (RFC 9112 §3.2.2: the
 *   server MUST ignore the received Host field).
 * - Without `fieldKeys` (an app that reads `rocket.raw_headers` only), no `HTTP_*` keys and an
 *   empty `CONTENT_TYPE`.
 */
export function buildEnviron(
  head: RequestHead,
  conn: ConnectionInfo,
  server: ServerInfo,
  input: WsgiInput,
  response?: ResponseChannel,
  fieldKeys = true,
): Environ {
  const target = head.target;
  let pathStart = 0;
  let authority: string | null = null;
  if (head.targetForm === 'absolute') {
    const authStart = target.indexOf('://') + 3;
    let authEnd = authStart;
    while (authEnd < target.length) {
      const c = target.charCodeAt(authEnd);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      authEnd++;
    }
    authority = target.slice(authStart, authEnd);
    pathStart = authEnd;
  }
  const q = target.indexOf('?', pathStart);
  let rawPath = q === -1 ? target.slice(pathStart) : target.slice(pathStart, q);
  if (head.targetForm === 'absolute' && rawPath === '') rawPath = '/';
  const secure = conn.secure;

  const environ: Environ = {
    REQUEST_METHOD: head.method,
    SCRIPT_NAME: '',
    PATH_INFO: head.targetForm === 'authority' ? '' : decodePath(rawPath),
    QUERY_STRING: q === -1 ? '' : target.slice(q + 1),
    CONTENT_TYPE: '',
    CONTENT_LENGTH: head.contentLength === null ? '' : head.contentLength[0]!,
    SERVER_NAME: server.serverName,
    SERVER_PORT: String(conn.serverPort),
    SERVER_PROTOCOL: head.version === 11 ? 'HTTP/1.1' : 'HTTP/1.0',
    SERVER_SOFTWARE: server.serverSoftware,
    REMOTE_ADDR: conn.remoteAddress,
    REMOTE_PORT: String(conn.remotePort),
    REQUEST_URI: target,
    'wsgi.version': WSGI_VERSION,
    'wsgi.url_scheme': secure ? 'https' : 'http',
    'wsgi.input': input,
    'wsgi.errors': server.errors,
    'wsgi.multithread': server.multithread,
    'wsgi.multiprocess': server.multiprocess,
    'wsgi.run_once': false,
    'wsgi.file_wrapper': server.fileWrapper,
    'rocket.raw_headers': head.rawHeaders,
    'rocket.connection': conn,
    // Set by the exchange; a key of the literal, so every environ has the same shape.
    'rocket.response': response as ResponseChannel,
  };
  if (secure) {
    environ.HTTPS = 'on';
    environ.SSL_CLIENT_RAW_CERT = conn.tls?.peerCertificatePem ?? null;
  }

  if (!fieldKeys) return environ;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = environKey(raw[i]!);
    if (key === null) continue;
    const value = raw[i + 1]!;
    if (key === 'CONTENT_TYPE') {
      environ.CONTENT_TYPE = environ.CONTENT_TYPE === '' ? value : `${environ.CONTENT_TYPE}, ${value}`;
      continue;
    }
    const previous = environ[key];
    if (previous === undefined) environ[key] = value;
    else environ[key] = `${previous as string}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value}`;
  }
  if (authority !== null) environ.HTTP_HOST = authority;
  return environ;
}

const keyCache = new Map<string, string | null>();
const KEY_CACHE_LIMIT = 2048;

/**
 * The environ key of a header field name: `HTTP_` + upper case with `-` → `_`; `CONTENT_TYPE`
 * for Content-Type; `null` for Content-Length (it is `CONTENT_LENGTH`, set from the framing) and
 * for names containing `_`.
 */
export function environKey(name: string): string | null {
  const cached = keyCache.get(name);
  if (cached !== undefined) return cached;
  let key: string | null;
  if (name.includes('_')) key = null;
  else {
    const upper = name.toUpperCase().replace(/-/g, '_');
    key = upper === 'CONTENT_LENGTH' ? null : upper === 'CONTENT_TYPE' ? upper : `HTTP_${upper}`;
  }
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(name, key);
  return key;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Percent-decode a path as UTF-8 (invalid sequences become U+FFFD), keeping `%2F` encoded.
 *
 * A `%` not followed by two hex digits (RFC 3986 §2.1) stays as it is, as Python's
 * `urllib.parse.unquote` leaves it: node:http, waitress and gunicorn all hand such a request to
 * the app, which may answer it as it likes (and reads the exact bytes from `REQUEST_URI`). Code
 * that maps paths to files must not trust `PATH_INFO` for that; the `fs` method parses
 * `REQUEST_URI` itself and refuses any malformed escape.
 *
 * @example
 * decodePath('/a%2Fb/%C3%A9'); // '/a%2Fb/é'
 * decodePath('/100%/%zz');     // '/100%/%zz'
 */
export function decodePath(raw: string): string {
  const pct = raw.indexOf('%');
  if (pct === -1) return raw;
  const bytes = Buffer.allocUnsafe(raw.length);
  let n = bytes.write(raw.slice(0, pct), 0, 'latin1');
  for (let i = pct; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes[n++] = c;
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      bytes[n++] = 0x25;
      continue;
    }
    const byte = hi * 16 + lo;
    if (byte === 0x2f) {
      bytes[n++] = 0x25;
      bytes[n++] = 0x32;
      bytes[n++] = 0x46;
    } else {
      bytes[n++] = byte;
    }
    i += 2;
  }
  return utf8.decode(bytes.subarray(0, n));
}
