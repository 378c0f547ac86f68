/**
 * One listening socket per interface: a `net.Server`, or a `tls.Server` for interfaces with a key
 * and certificate. It accepts connections, finishes their TLS handshake, describes them
 * (addresses, TLS facts) and hands them on. It knows nothing of HTTP.
 */

import { chmodSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionInfo, TlsInfo } from '../gateway/environ.js';
import { RocketError } from '../errors.js';
import type { BindSpec } from './bind.js';
import type { AddressList } from '../http/ip.js';
import type { Logger } from '../observability/logging.js';
import type { DroppedConnection } from '../options.js';
import { detectProxyHeader, parseProxyHeader, type ProxyHeader, type ProxyProtocolMode } from '../http/proxy-protocol.js';

/** What an interface was actually bound to. */
export interface BoundAddress {
  host: string;
  /** The real port (the one the system chose for port 0). */
  port: number;
  secure: boolean;
  /** `unix` for a UNIX domain socket, whose path is `host`. */
  family: 'IPv4' | 'IPv6' | 'unix';
}

/** `127.0.0.1:8000`, `[::1]:8443*` (TLS), `unix:/run/app.sock`: how Rocket names what it listens on. */
export function describeAddress(address: BoundAddress): string {
  if (address.family === 'unix') return `unix:${address.host}`;
  const host = address.family === 'IPv6' ? `[${address.host}]` : address.host;
  return `${host}:${address.port}${address.secure ? '*' : ''}`;
}

export type ConnectionHandler = (socket: net.Socket, info: ConnectionInfo) => void;

export interface ListenerSettings {
  /** Milliseconds for a TLS handshake; 0 = no limit. */
  handshakeTimeout: number;
  backlog: number;
  /** Disable Nagle's algorithm on every connection (TCP_NODELAY). */
  noDelay: boolean;
  /** A socket of this process's own with SO_REUSEPORT, rather than one shared through `cluster`. */
  reusePort: boolean;
  /** Bind `::` for IPv6 only (IPV6_V6ONLY); absent = false. */
  ipv6Only?: boolean;
  logger: Logger;
  nextConnectionId(): number;
  /** Expect a PROXY protocol header from the peers of `proxyAllowIps`; null: none is expected. */
  proxyProtocol: ProxyProtocolMode | null;
  /** Who may send a PROXY header; a header from anyone else closes the connection. */
  proxyAllowIps: AddressList | null;
  /** The file mode of a UNIX socket interface, or null for the umask's. */
  unixSocketMode: number | null;
  /** Milliseconds for the PROXY header (or, from other peers, the bytes that tell it is none); 0 = no limit. */
  proxyTimeout: number;
  /** Connections open at once; 0 = no limit. */
  maxConnections: number;
  /** A connection was closed on arrival because `maxConnections` were open. */
  onDrop(connection: DroppedConnection): void;
}

export class Listener {
  readonly spec: BindSpec;
  #server: net.Server | null = null;
  /**
   * TCP sockets of a TLS interface until they close. Once a connection's handshake is done, its
   * TLS socket is the server's to close, and closing it closes the TCP one; what is left here when
   * every connection is gone are handshakes still under way.
   */
  readonly #handshaking = new Set<net.Socket>();
  /** Sockets whose PROXY header is awaited: not connections yet, closed by {@link destroyHandshakes}. */
  readonly #awaitingProxy = new Set<net.Socket>();
  /** The TLS server of a TLS interface behind a PROXY header reader (which is then `#server`). */
  #tls: tls.Server | null = null;
  #address: BoundAddress | null = null;

  constructor(spec: BindSpec) {
    this.spec = spec;
  }

  /**
   * What the socket is bound to. Known as soon as `listen()` was called for a numeric host (the
   * system binds at once and only reports 'listening' a tick later), which lets callers read a
   * port chosen for port 0 synchronously, as `net.Server.address()` allows.
   */
  get address(): BoundAddress | null {
    if (this.#address !== null) return this.#address;
    const bound = this.#server?.address();
    if (bound === null || bound === undefined || typeof bound === 'string') return null;
    return { host: bound.address, port: bound.port, secure: this.spec.keyFile !== null, family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  /**
   * Read the TLS files (each time, so a restart picks up renewed certificates), bind and listen.
   * @throws {RocketError} ROCKET_ERR_TLS_FILE naming an unreadable file, ROCKET_ERR_BIND naming the interface.
   */
  async listen(settings: ListenerSettings, onConnection: ConnectionHandler): Promise<BoundAddress> {
    const spec = this.spec;
    let server: net.Server;
    this.#tls = null;
    if (spec.keyFile === null) server = this.#plainServer(settings, onConnection);
    else {
      const secure = await this.#tlsServer(settings, onConnection);
      // The PROXY header comes before the TLS handshake: a plain server reads it, then hands the
      // socket with whatever followed to the TLS server.
      if (settings.proxyProtocol === null) server = secure;
      else {
        this.#tls = secure;
        server = net.createServer({ allowHalfOpen: true, noDelay: settings.noDelay }, (socket) => {
          this.#readProxyHeader(socket, settings, (header) => {
            if (header !== null) proxied.set(socket, header);
            secure.emit('connection', socket);
          }, false);
        });
      }
    }
    this.#server = server;
    // net.Server enforces the limit itself, before any JavaScript runs for the connection, and
    // counts a socket until it closes — an upgraded one too, as node:http counts it.
    this.setMaxConnections(settings.maxConnections);
    server.on('drop', (data?: DroppedConnection) => settings.onDrop(data ?? {}));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        this.#server = null;
        reject(
          new RocketError('ROCKET_ERR_BIND', `cannot listen on ${spec.label}: ${error.code ?? ''} ${error.message}`.trim(), {
            cause: error,
          }),
        );
      };
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      if (spec.fd !== null) server.listen({ fd: spec.fd, backlog: settings.backlog });
      else if (spec.path !== null) server.listen({ path: spec.path, backlog: settings.backlog });
      else {
        const host = spec.host === '' ? undefined : spec.host;
        const ipv6Only = settings.ipv6Only === true;
        // `exclusive`: in a cluster worker, bind here rather than share the primary's socket.
        if (settings.reusePort) server.listen({ host, port: spec.port, backlog: settings.backlog, ipv6Only, exclusive: true, reusePort: true } as net.ListenOptions);
        else server.listen({ host, port: spec.port, backlog: settings.backlog, ipv6Only });
      }
    });
    server.on('error', (error) => settings.logger.error(`listener ${spec.label}: ${error.message}`));
    if (spec.path !== null && settings.unixSocketMode !== null) {
      try {
        chmodSync(spec.path, settings.unixSocketMode);
      } catch (error) {
        server.close();
        this.#server = null;
        throw new RocketError('ROCKET_ERR_BIND', `cannot set mode ${settings.unixSocketMode.toString(8)} on ${spec.label}: ${(error as Error).message}`, { cause: error });
      }
    }
    const bound = server.address();
    this.#address =
      typeof bound === 'string' || bound === null
        ? { host: spec.path ?? (typeof bound === 'string' ? bound : ''), port: 0, secure: spec.keyFile !== null, family: 'unix' }
        : { host: bound.address, port: bound.port, secure: spec.keyFile !== null, family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    return this.#address;
  }

  /**
   * Read the TLS files again and use them for new connections, without closing the socket. A
   * plain interface has nothing to reload.
   * @throws {RocketError} ROCKET_ERR_TLS_FILE when a file cannot be read or used; the old ones stay.
   */
  async reload(): Promise<void> {
    const server = this.#tls ?? this.#server;
    if (!(server instanceof tls.Server)) return;
    const context = await this.#readTlsFiles();
    try {
      server.setSecureContext(context);
    } catch (error) {
      throw this.#unusable(error);
    }
  }

  /**
   * Stop accepting: the listening socket is closed at once. Connections already accepted are not
   * touched (the server drains them); TLS handshakes still under way are ended by
   * {@link destroyHandshakes}.
   */
  close(): void {
    const server = this.#server;
    this.#server = null;
    this.#address = null;
    if (server !== null && server.listening) server.close();
  }

  /**
   * Accept what is already waiting, then close. Connections the system completed but nobody
   * accepted yet (the listen backlog) would be reset by a close; one full poll of the event loop
   * after the decision (an immediate scheduled from the check phase runs after the next poll)
   * accepts every one of them first. Resolves when the socket is closed.
   */
  closeAfterPendingAccepts(): Promise<void> {
    if (this.#server === null) return Promise.resolve();
    return new Promise((resolve) => {
      setImmediate(() =>
        setImmediate(() => {
          this.close();
          resolve();
        }),
      );
    });
  }

  /** Change the limit of connections open at once (0 = none); it applies to the next connection accepted. */
  setMaxConnections(max: number): void {
    const server = this.#server;
    if (server === null) return;
    // Unset is no limit; once set, Infinity says the same (0 means none only on some Node versions).
    if (max > 0) server.maxConnections = max;
    else if (server.maxConnections !== undefined) server.maxConnections = Infinity;
  }

  unref(): void {
    this.#server?.unref();
  }

  ref(): void {
    this.#server?.ref();
  }

  /** End every TLS handshake still under way (they have not become connections). */
  destroyHandshakes(): void {
    for (const socket of this.#handshaking) socket.destroy();
    for (const socket of this.#awaitingProxy) socket.destroy();
  }

  #plainServer(settings: ListenerSettings, onConnection: ConnectionHandler): net.Server {
    // allowHalfOpen: a client that shuts down its sending side still gets its response.
    return net.createServer({ allowHalfOpen: true, noDelay: settings.noDelay }, (socket) => {
      if (settings.proxyProtocol === null) onConnection(socket, this.#describe(socket, settings, null, null));
      else this.#readProxyHeader(socket, settings, (header) => onConnection(socket, this.#describe(socket, settings, null, header)));
    });
  }

  /**
   * Read the PROXY header off a new socket, then hand the socket on with the bytes after the
   * header put back. From a peer of `proxyAllowIps` (or over a UNIX socket, whose peer is local)
   * a header is required; from any other peer, a header is refused and anything else is an
   * ordinary connection. Refusals close the socket without a response: the peer is no HTTP client
   * that could read one.
   */
  #readProxyHeader(socket: net.Socket, settings: ListenerSettings, done: (header: ProxyHeader | null) => void, resume = true): void {
    const peer = socket.remoteAddress;
    const allowed = peer === undefined || settings.proxyAllowIps === null || settings.proxyAllowIps.has(peer);
    const mode = settings.proxyProtocol!;
    let received: Buffer = EMPTY;
    const finish = () => {
      if (timer !== null) clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', finish);
      this.#awaitingProxy.delete(socket);
    };
    const refuse = (why: string) => {
      finish();
      settings.logger.debug(`${this.spec.label}: connection from ${peer ?? 'a UNIX socket'} closed: ${why}`);
      socket.destroy();
    };
    const handOver = (rest: Buffer, header: ProxyHeader | null) => {
      finish();
      // Paused, the bytes put back wait for the connection's own 'data' listener; resume() lets
      // them flow on the next tick, after that listener is attached.
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      // A TLS socket reads what was put back itself, and a flowing socket would lose it first.
      if (resume) socket.resume();
      done(header);
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      if (!allowed) {
        const seen = detectProxyHeader(received);
        if (seen === 'proxy') refuse(`a PROXY header from a peer not in proxyAllowIps`);
        else if (seen === 'not-proxy') handOver(received, null);
        return;
      }
      const result = parseProxyHeader(received, mode);
      if (result.kind === 'error') refuse(result.reason);
      else if (result.kind === 'header') handOver(received.subarray(result.header.length), result.header);
    };
    const onEnd = () => refuse('the peer closed before a PROXY header');
    const onError = (error: NodeJS.ErrnoException) => refuse(error.code ?? error.message);
    const timer = settings.proxyTimeout > 0 ? setTimeout(() => refuse(`no PROXY header within ${settings.proxyTimeout} ms`), settings.proxyTimeout) : null;
    this.#awaitingProxy.add(socket);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', finish);
  }

  async #tlsServer(settings: ListenerSettings, onConnection: ConnectionHandler): Promise<tls.Server> {
    const spec = this.spec;
    const { key, cert, ca } = await this.#readTlsFiles();
    let server: tls.Server;
    try {
      server = tls.createServer({
        key,
        cert,
        ca,
        // With a CA: ask for a certificate, accept its absence, and refuse one that does not verify.
        requestCert: ca !== undefined,
        rejectUnauthorized: false,
        allowHalfOpen: true,
        noDelay: settings.noDelay,
        handshakeTimeout: settings.handshakeTimeout > 0 ? settings.handshakeTimeout : undefined,
      });
    } catch (error) {
      throw this.#unusable(error);
    }
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      let peerCertificatePem: string | null = null;
      if (ca !== undefined) {
        const peer = socket.getPeerCertificate(false);
        if (peer !== null && peer.raw !== undefined) {
          if (!socket.authorized) {
            settings.logger.debug(`${spec.label}: client certificate refused: ${String(socket.authorizationError)}`);
            socket.destroy();
            return;
          }
          peerCertificatePem = toPem(peer.raw);
        }
      }
      const tlsInfo: TlsInfo = {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.name ?? null,
        alpnProtocol: socket.alpnProtocol ?? null,
        authorized: socket.authorized,
        peerCertificatePem,
        getPeerCertificate: (detailed) => socket.getPeerCertificate(detailed === true),
        servername: (socket as tls.TLSSocket & { servername?: string | false }).servername ?? false,
        getCipher: () => socket.getCipher(),
        getSession: () => socket.getSession(),
        exportKeyingMaterial: (length, label, context) => socket.exportKeyingMaterial(length, label, context as Buffer),
      };
      // Read by the TLS socket from what it wraps (a PROXY header reader handed it over).
      const parent = (socket as tls.TLSSocket & { _parent?: net.Socket })._parent;
      onConnection(socket, this.#describe(socket, settings, tlsInfo, parent === undefined ? null : (proxied.get(parent) ?? null)));
    });
    server.on('connection', (raw: net.Socket) => {
      this.#handshaking.add(raw);
      raw.once('close', () => this.#handshaking.delete(raw));
    });
    server.on('tlsClientError', (error, socket) => {
      settings.logger.debug(`${spec.label}: TLS handshake failed: ${error.message}`);
      // Node reports a handshake timeout but leaves the socket open: close it.
      socket.destroy();
    });
    return server;
  }

  async #readTlsFiles(): Promise<{ key: Buffer; cert: Buffer; ca: Buffer | undefined }> {
    const spec = this.spec;
    return {
      key: await readTlsFile(spec.keyFile!, 'key', spec),
      cert: await readTlsFile(spec.certFile!, 'certificate', spec),
      ca: spec.caFile === null ? undefined : await readTlsFile(spec.caFile, 'CA', spec),
    };
  }

  #unusable(error: unknown): RocketError {
    const spec = this.spec;
    return new RocketError(
      'ROCKET_ERR_TLS_FILE',
      `cannot use key "${spec.keyFile}" and certificate "${spec.certFile}" for ${spec.label}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  #describe(socket: net.Socket, settings: ListenerSettings, tlsInfo: TlsInfo | null, header: ProxyHeader | null): ConnectionInfo {
    // The client a PROXY header names is the connection's peer for everything above this line.
    const source = header?.command === 'proxy' ? header.source : null;
    return {
      id: settings.nextConnectionId(),
      remoteAddress: source?.address ?? socket.remoteAddress ?? '',
      remotePort: source?.port ?? socket.remotePort ?? 0,
      proxy:
        header === null
          ? null
          : { version: header.version, command: header.command, source: header.source, destination: header.destination, peerAddress: socket.remoteAddress ?? '', peerPort: socket.remotePort ?? 0 },
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      serverPort: this.#address?.port ?? this.spec.port,
      secure: tlsInfo !== null,
      tls: tlsInfo,
      onClose: (listener) => {
        socket.once('close', () => listener());
      },
      destroy: () => {
        socket.destroy();
      },
    };
  }
}

const EMPTY = Buffer.alloc(0);

/** The PROXY headers of TCP sockets handed to a TLS server, until its TLS socket is described. */
const proxied = new WeakMap<net.Socket, ProxyHeader>();

async function readTlsFile(path: string, what: string, spec: BindSpec): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RocketError('ROCKET_ERR_TLS_FILE', `cannot read ${what} file "${path}" for ${spec.label}: ${code}`, { cause: error });
  }
}

/** DER bytes as a PEM certificate: base64 in 64-character lines between the markers. */
export function toPem(der: Buffer): string {
  const base64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < base64.length; i += 64) body += `${base64.slice(i, i + 64)}\n`;
  return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}
