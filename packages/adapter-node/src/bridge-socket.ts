/**
 * The socket bridged `req` and `res` objects see: one per connection, as node:http has one
 * `net.Socket` per connection, so code that keys state on `req.socket` (connection trackers, NTLM)
 * sees the same object for every request of a keep-alive connection, and its `'close'` comes when
 * the connection closes. It is a real `stream.Duplex` (Node's `ServerResponse`, on-finished, ws
 * and friends look at its stream state), dressed with the facts of the real connection
 * (addresses, TLS) from `rocket.connection`.
 *
 * Writes take a short path: what `ServerResponse` writes goes straight to the response parser of
 * the response being written, without the `Writable` buffering — backpressure is the server's
 * (`write()` returns false and `'drain'` comes when the client has read). One response writes at
 * a time; the response of a pipelined request waits for the one before it to finish, as on
 * node:http. Its readable side carries nothing: the request body reaches `req` directly.
 */

import { AsyncResource } from 'node:async_hooks';
import { Duplex } from 'node:stream';
import type { ConnectionInfo } from '@rocketserver/core';
import type { ResponseParser } from './response-parser.js';

/** A response that writes to the socket while it is the socket's current one. */
export interface SocketUser {
  readonly parser: ResponseParser;
  /** Bytes the server wrote to the connection for this response so far. */
  readonly bytesSent: number;
  /** Node wrote to the socket, and the parser took it all. */
  written(): void;
  /** Resolves when the connection can take more. */
  drained(): Promise<void>;
  /** The socket was destroyed before the response was complete (`res.destroy()`, `req.socket.destroy()`). */
  aborted(error: Error | null): void;
  /** It is this response's turn: take the socket. */
  attach(): void;
}

type Callback = (error?: Error | null) => void;

/** One callback, owed to `count` writes. */
interface WriteCallbacks {
  readonly callback: Callback;
  count: number;
}

function runWriteCallbacks(socket: BridgeSocket, batch: WriteCallbacks): void {
  socket.endBatch(batch);
  const { callback } = batch;
  for (let i = batch.count; i > 0; i--) callback();
}

/**
 * @example
 * const socket = BridgeSocket.of(environ['rocket.connection']);
 * socket.enqueue(bridgedRequest);
 */
export class BridgeSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6' | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  /** The connection behind this socket. */
  readonly connection: ConnectionInfo;
  /** Present (true) on TLS connections only, as on a `tls.TLSSocket`. */
  declare readonly encrypted?: true;
  declare readonly authorized?: boolean;
  declare readonly alpnProtocol?: string | false;
  /** The server name the client asked for (SNI), or false; TLS connections only. */
  declare readonly servername?: string | false;
  bytesRead = 0;
  /** Bytes written to the connection for the responses before the current one. */
  #bytesBefore = 0;
  readonly connecting = false;
  /** The response writing now. */
  current: SocketUser | null = null;
  /** The async scope the connection's requests are dispatched in (node:http makes one per connection too). */
  readonly asyncScope = new AsyncResource('HTTPINCOMINGMESSAGE');
  /** Responses of pipelined requests, waiting for their turn. */
  readonly #waiting: SocketUser[] = [];
  #timer: NodeJS.Timeout | null = null;
  #timeout = 0;
  /** A write returned false: `'drain'` is owed once the connection has room. */
  #needDrain = false;
  /** Write callbacks waiting for that. */
  #afterDrain: Callback[] = [];
  /** The callbacks of the writes since the last tick, when they were all the same one. */
  #afterTick: WriteCallbacks | null = null;

  constructor(connection: ConnectionInfo) {
    super({ allowHalfOpen: true, decodeStrings: true });
    this.connection = connection;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
    this.remoteFamily = connection.remoteAddress === '' ? undefined : connection.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    if (connection.tls !== null) {
      Object.defineProperty(this, 'encrypted', { value: true, enumerable: true });
      Object.defineProperty(this, 'authorized', { value: connection.tls.authorized, enumerable: true });
      Object.defineProperty(this, 'alpnProtocol', { value: connection.tls.alpnProtocol ?? false, enumerable: true });
      Object.defineProperty(this, 'servername', { value: connection.tls.servername, enumerable: true });
    }
  }

  /** A write returned false and the connection has not drained yet. */
  get drainOwed(): boolean {
    return this.#needDrain;
  }

  /** Give the socket to `user` now, or once the responses before it have finished. */
  enqueue(user: SocketUser): void {
    if (this.current === null) user.attach();
    else this.#waiting.push(user);
  }

  /** Bytes written to the connection, as `net.Socket.bytesWritten`: what the server sent, heads as it framed them. */
  get bytesWritten(): number {
    return this.#bytesBefore + (this.current?.bytesSent ?? 0);
  }

  /** The current response finished: the next one in line takes the socket. */
  release(): void {
    this.#bytesBefore += this.current?.bytesSent ?? 0;
    this.current = null;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#timeout = 0;
    this.#waiting.shift()?.attach();
  }

  /** True if `user` waits for its turn (it never had the socket). */
  isWaiting(user: SocketUser): boolean {
    return this.#waiting.includes(user);
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

  getCipher(): { name: string; standardName: string; version: string } | undefined {
    return this.connection.tls?.getCipher();
  }

  getSession(): Buffer | undefined {
    return this.connection.tls?.getSession();
  }

  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer {
    const tls = this.connection.tls;
    if (tls === null) throw new TypeError('exportKeyingMaterial() needs a TLS connection');
    return tls.exportKeyingMaterial(length, label, context);
  }

  /**
   * Emit `'timeout'` after `ms` without a byte read or written for the current request
   * (`req.setTimeout`, `res.setTimeout`, `server.timeout`), as `net.Socket.setTimeout` does. 0
   * turns it off. Between requests the server's keep-alive timeout applies instead.
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

  /**
   * What `ServerResponse` (or an app, raw) writes: straight to the current response's parser.
   * Anything the short path cannot take (no response writing, the socket ended or destroyed, not
   * a string or bytes) goes through `Writable.write`, for its rules and errors.
   */
  override write(chunk: unknown, encoding?: BufferEncoding | Callback | null, callback?: Callback | null): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    // Node passes a null callback (and a null encoding) for most of its writes.
    if (typeof callback !== 'function') callback = undefined;
    const user = this.current;
    const isText = typeof chunk === 'string';
    if (user === null || this.destroyed || this.writableEnded || (!isText && !(chunk instanceof Uint8Array))) {
      return callback === undefined ? super.write(chunk, encoding as BufferEncoding) : super.write(chunk, encoding as BufferEncoding, callback);
    }
    const size = isText ? (chunk as string).length : (chunk as Uint8Array).byteLength;
    if (size === 0) {
      // Node's end() writes '' with the callback that emits 'finish'.
      if (callback !== undefined) this.#afterWrite(callback);
      return !this.#needDrain;
    }
    this.touch();
    let room: boolean;
    try {
      const data = isText || Buffer.isBuffer(chunk) ? (chunk as string | Buffer) : Buffer.from((chunk as Uint8Array).buffer, (chunk as Uint8Array).byteOffset, size);
      room = user.parser.write(data, encoding);
    } catch (error) {
      // Not an HTTP response (raw writes to `res.socket`): the connection is cut.
      user.aborted(error as Error);
      if (callback !== undefined) process.nextTick(callback, error as Error);
      this.destroy(error as Error);
      return false;
    }
    user.written();
    // As a net.Socket, a write as large as the high-water mark asks the writer to wait for
    // 'drain', even when the connection took it all at once.
    if (!room || size >= this.writableHighWaterMark) this.#waitForDrain(user);
    if (callback !== undefined) this.#afterWrite(callback);
    return !this.#needDrain;
  }

  /**
   * A write's callback runs when the bytes were taken: on the next tick, or once the client has
   * read. The same callback for writes in a row (Node's `write_` passes one for every chunk) is
   * called that many times from one tick, as Writable's afterWrite does.
   */
  #afterWrite(callback: Callback): void {
    if (this.#needDrain) {
      this.#afterDrain.push(callback);
      return;
    }
    const batch = this.#afterTick;
    if (batch !== null && batch.callback === callback) {
      batch.count++;
      return;
    }
    const next = { callback, count: 1 };
    this.#afterTick = next;
    process.nextTick(runWriteCallbacks, this, next);
  }

  /** The batch of write callbacks waiting for the next tick is running: later writes start another. */
  endBatch(batch: WriteCallbacks): void {
    if (this.#afterTick === batch) this.#afterTick = null;
  }

  #waitForDrain(user: SocketUser): void {
    if (this.#needDrain) return;
    this.#needDrain = true;
    user.drained().then(() => {
      this.#needDrain = false;
      // 'drain' before the callbacks of the writes that waited, as Writable's afterWrite.
      if (!this.destroyed && !this.writableEnded) this.emit('drain');
      const callbacks = this.#afterDrain;
      this.#afterDrain = [];
      for (const callback of callbacks) callback();
    });
  }

  override _read(): void {
    // The request body is delivered to `req` itself; nothing ever arrives here.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    const user = this.current;
    if (user === null) {
      callback(new Error('nothing can be written to this socket between responses'));
      return;
    }
    this.touch();
    let room: boolean;
    try {
      room = user.parser.write(chunk);
    } catch (error) {
      user.aborted(error as Error);
      callback(error as Error);
      return;
    }
    user.written();
    if (room) callback();
    else user.drained().then(() => callback(), callback);
  }

  override _final(callback: Callback): void {
    try {
      this.current?.parser.finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const user = this.current;
    if (user !== null) {
      if (!user.parser.done) user.aborted(error);
    } else {
      // Between requests: the connection itself goes (a no-op when it is what closed).
      this.connection.destroy();
    }
    const callbacks = this.#afterDrain;
    this.#afterDrain = [];
    for (const pending of callbacks) process.nextTick(pending, error);
    callback(error);
  }
}

// Backpressure is the connection's: `write()` never buffers here, so Writable's own state would
// always say no drain is owed.
Object.defineProperty(BridgeSocket.prototype, 'writableNeedDrain', {
  configurable: true,
  get(this: BridgeSocket) {
    return this.drainOwed;
  },
});
