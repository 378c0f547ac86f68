/**
 * Rocket's interface tuples, checked and turned into what a listener binds. Pure.
 *
 *   [host, port]                              plain HTTP
 *   [host, port, keyFile, certFile]           HTTPS (key before cert, as in Rocket)
 *   [host, port, keyFile, certFile, caFile]   HTTPS, client certificates requested and verified
 *   '/path/to/socket'                         a UNIX domain socket
 *   'fd://3'                                  a listening socket inherited as file descriptor 3
 *   'systemd://', 'systemd://NAME'            the sockets systemd passed (all, or those named NAME)
 *
 * `host` is an IPv4 address, an IPv6 address (any host containing `:`), a host name, or `''` for
 * every interface.
 */

import { RocketError } from '../errors.js';

export type PlainInterface = readonly [host: string, port: number];
export type TlsInterface = readonly [host: string, port: number, keyFile: string, certFile: string];
export type MutualTlsInterface = readonly [host: string, port: number, keyFile: string, certFile: string, caFile: string | null];
/** A UNIX domain socket, given by its path; or `fd://N`, `systemd://`, `systemd://NAME`. */
export type UnixInterface = string;
export type Interface = PlainInterface | TlsInterface | MutualTlsInterface | UnixInterface;

/** One interface, checked. */
export interface BindSpec {
  /** '' = every interface. */
  readonly host: string;
  readonly port: number;
  /** The path of a UNIX domain socket, or null for TCP. */
  readonly path: string | null;
  /** An inherited listening socket's file descriptor, or null. */
  readonly fd: number | null;
  /** `systemd://[NAME]`: the name asked for ('' = every socket), until it becomes fd specs. */
  readonly systemd: string | null;
  readonly ipv6: boolean;
  readonly keyFile: string | null;
  readonly certFile: string | null;
  readonly caFile: string | null;
  /** `127.0.0.1:8000`, `[::1]:8443*` (`*` = TLS), as Rocket logs them. */
  readonly label: string;
}

/**
 * Accept one interface tuple or a list of them.
 * @throws {RocketError} ROCKET_ERR_INVALID_INTERFACE naming the bad tuple and what is wrong.
 * @example
 * parseInterfaces([['127.0.0.1', 8000], ['::1', 8443, 'key.pem', 'cert.pem']]);
 */
export function parseInterfaces(interfaces: unknown): BindSpec[] {
  if (typeof interfaces === 'string') return [parseInterface(interfaces)];
  if (!Array.isArray(interfaces) || interfaces.length === 0) {
    throw invalid(interfaces, 'interfaces must be [host, port, …], a socket path, or a non-empty list of them');
  }
  // One tuple is a host followed by a port; anything else is a list (of tuples and socket paths).
  const [first, second] = interfaces as unknown[];
  const isTuple = !Array.isArray(first) && (typeof second === 'number' || (typeof second === 'string' && /^\d+$/.test(second)));
  return (isTuple ? [interfaces] : interfaces).map(parseInterface);
}

function parseInterface(tuple: unknown): BindSpec {
  if (typeof tuple === 'string') {
    if (tuple === '') throw invalid(tuple, 'a socket path must not be empty');
    if (tuple.startsWith('fd://')) {
      const fd = tuple.slice('fd://'.length);
      if (!/^\d{1,9}$/.test(fd)) throw invalid(tuple, 'fd:// takes a file descriptor number, as in fd://3');
      return fdSpec(Number(fd));
    }
    if (tuple.startsWith('systemd://')) {
      const name = tuple.slice('systemd://'.length);
      return { host: '', port: 0, path: null, fd: null, systemd: name, ipv6: false, keyFile: null, certFile: null, caFile: null, label: tuple };
    }
    return { host: '', port: 0, path: tuple, fd: null, systemd: null, ipv6: false, keyFile: null, certFile: null, caFile: null, label: `unix:${tuple}` };
  }
  if (!Array.isArray(tuple)) throw invalid(tuple, 'an interface must be an array [host, port, …] or a socket path');
  if (tuple.length !== 2 && tuple.length !== 4 && tuple.length !== 5) {
    throw invalid(tuple, 'an interface has 2 elements (host, port), 4 (…, keyFile, certFile) or 5 (…, caFile)');
  }
  const [host, rawPort, keyFile, certFile, caFile] = tuple as unknown[];
  if (typeof host !== 'string') throw invalid(tuple, 'the host must be a string');
  const port = typeof rawPort === 'string' && /^\d+$/.test(rawPort) ? Number(rawPort) : rawPort;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalid(tuple, `port ${JSON.stringify(rawPort)} is not an integer from 0 to 65535`);
  }
  const ipv6 = host.includes(':');
  let key: string | null = null;
  let cert: string | null = null;
  let ca: string | null = null;
  if (tuple.length >= 4) {
    if (typeof keyFile !== 'string' || keyFile === '') throw invalid(tuple, 'the key file must be a path');
    if (typeof certFile !== 'string' || certFile === '') throw invalid(tuple, 'the certificate file must be a path');
    key = keyFile;
    cert = certFile;
    // As in Rocket, an empty fifth element means "no client certificates".
    if (caFile !== undefined && caFile !== null && caFile !== '') {
      if (typeof caFile !== 'string') throw invalid(tuple, 'the CA file must be a path');
      ca = caFile;
    }
  }
  const shownHost = host === '' ? '*' : ipv6 ? `[${host}]` : host;
  return { host, port, path: null, fd: null, systemd: null, ipv6, keyFile: key, certFile: cert, caFile: ca, label: `${shownHost}:${port}${key ? '*' : ''}` };
}

/** A listening socket inherited as file descriptor `fd`. */
export function fdSpec(fd: number, name = ''): BindSpec {
  return { host: '', port: 0, path: null, fd, systemd: null, ipv6: false, keyFile: null, certFile: null, caFile: null, label: name === '' ? `fd://${fd}` : `fd://${fd} (${name})` };
}

function invalid(value: unknown, why: string): RocketError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new RocketError('ROCKET_ERR_INVALID_INTERFACE', `invalid interface ${shown}: ${why}`);
}
