/**
 * The socket a bridged `req` and `res` see: a real `stream.Duplex` (Node's `ServerResponse`,
 * on-finished, ws and friends look at its stream state), dressed with the facts of the real
 * connection (addresses, TLS) from `rocket.connection`.
 *
 * Its writable side receives what `ServerResponse` serialises and feeds it to the response parser;
 * the parser's backpressure becomes this socket's, so `res.write()` returns false and `'drain'`
 * comes when the client reads. Its readable side carries nothing: the request body reaches `req`
 * directly. One bridge socket serves one request.
 */

import { Duplex } from 'node:stream';
import type { ConnectionInfo } from '@rocketserver/core';
import type { ResponseParser } from './response-parser.js';

export interface BridgeSocketSink {
  /** Node wrote to the socket (once per `_write` or `_writev`), and the parser took it all. */
  written(): void;
  /** Resolves when the connection can take more. */
  drained(): Promise<void>;
  /** The socket was destroyed before the response was complete (`res.destroy()`, `req.socket.destroy()`). */
  aborted(error: Error | null): void;
}

/**
 * @example
 * const socket = new BridgeSocket(environ['rocket.connection'], sink);
 * socket.parser = new ResponseParser(responseSink, isHead);
 */
export class BridgeSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6' | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  /** The connection behind this socket: the same object for every request of a keep-alive connection. */
  readonly connection: ConnectionInfo;
  /** Present (true) on TLS connections only, as on a `tls.TLSSocket`. */
  declare readonly encrypted?: true;
  declare readonly authorized?: boolean;
  declare readonly alpnProtocol?: string | false;
  parser: ResponseParser | null = null;
  bytesRead = 0;
  bytesWritten = 0;
  readonly connecting = false;
  #sink: BridgeSocketSink;
  #timer: NodeJS.Timeout | null = null;
  #timeout = 0;

  constructor(connection: ConnectionInfo, sink: BridgeSocketSink) {
    super({ allowHalfOpen: true, decodeStrings: true });
    this.connection = connection;
    this.#sink = sink;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
    this.remoteFamily = connection.remoteAddress === '' ? undefined : connection.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    if (connection.tls !== null) {
      Object.defineProperty(this, 'encrypted', { value: true, enumerable: true });
      Object.defineProperty(this, 'authorized', { value: connection.tls.authorized, enumerable: true });
      Object.defineProperty(this, 'alpnProtocol', { value: connection.tls.alpnProtocol ?? false, enumerable: true });
    }
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.localAddress.includes(':') ? 'IPv6' : 'IPv4', port: this.localPort };
  }

  /** The client certificate, as `tls.TLSSocket.getPeerCertificate()` gives it; `{}` without one. */
  getPeerCertificate(detailed?: boolean): object {
    return this.connection.tls?.getPeerCertificate?.(detailed) ?? {};
  }

  getProtocol(): string | null {
    return this.connection.tls?.protocol ?? null;
  }

  getCipher(): { name: string } | undefined {
    const name = this.connection.tls?.cipher;
    return name ? { name } : undefined;
  }

  /**
   * Emit `'timeout'` after `ms` without a byte read or written for this request (`req.setTimeout`,
   * `res.setTimeout`, `server.timeout`), as `net.Socket.setTimeout` does. 0 turns it off.
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.#timeout = ms;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (callback !== undefined) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    if (ms > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit('timeout'), ms);
      this.#timer.unref();
    }
    return this;
  }

  /** Restart the inactivity timer: bytes went one way or the other. */
  touch(): void {
    this.#timer?.refresh();
  }

  get timeout(): number {
    return this.#timeout;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  override _read(): void {
    // The request body is delivered to `req` itself; nothing ever arrives here.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.touch();
    let room: boolean;
    try {
      room = this.parser!.write(chunk);
    } catch (error) {
      // Not an HTTP response (raw writes to `res.socket`): the connection is cut.
      this.#sink.aborted(error as Error);
      callback(error as Error);
      return;
    }
    this.#sink.written();
    if (room) callback();
    else this.#sink.drained().then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    let room = true;
    try {
      for (const { chunk } of chunks) {
        this.bytesWritten += chunk.length;
        if (!this.parser!.write(chunk)) room = false;
      }
    } catch (error) {
      this.#sink.aborted(error as Error);
      callback(error as Error);
      return;
    }
    this.touch();
    this.#sink.written();
    if (room) callback();
    else this.#sink.drained().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    try {
      this.parser?.finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.parser === null || !this.parser.done) this.#sink.aborted(error);
    callback(error);
  }
}
