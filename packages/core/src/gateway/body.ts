/**
 * `wsgi.input`: the request body as the application reads it.
 *
 * The connection pushes body bytes in (already de-chunked, never past the end of the body); the
 * application pulls them out with `read(n)`, `readline()` or async iteration. Reads block — as
 * they do on a Python file — until they can be answered in full or the body ends.
 *
 * Flow control: the connection stops reading the socket while more than a high-water mark of body
 * bytes waits here unread and nobody is waiting for more. A read that has to wait tells the
 * connection through {@link BodySource.wantBody}, which is also when `100 Continue` is sent.
 */

import type { WsgiInput } from './environ.js';

/** The connection side of a body. */
export interface BodySource {
  /** A read is waiting for bytes: send `100 Continue` if owed, and make sure the socket is read. */
  wantBody(): void;
  /** The application took bytes out; reading may resume. */
  bodyConsumed(): void;
}

const EMPTY = Buffer.alloc(0);

const enum ReadKind {
  Bytes,
  Line,
  Chunk,
}

interface PendingRead {
  kind: ReadKind;
  size: number;
  resolve(value: Buffer | null): void;
  reject(error: unknown): void;
}

/**
 * @example
 * const body = await environ['wsgi.input'].read();          // the whole body
 * for await (const chunk of environ['wsgi.input']) { … }    // as it arrives
 */
export class BodyInput implements WsgiInput {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #error: unknown = null;
  #pending: PendingRead[] = [];
  #source: BodySource | null;
  /** The body is thrown away as it comes: reads wait for its end, then see nothing more. */
  #discarding = false;
  /** How far the buffered chunks were searched for a newline: whole chunks, and their bytes. */
  readonly #lineScan = { chunks: 0, offset: 0 };

  constructor(source: BodySource | null) {
    this.#source = source;
  }

  /** Body bytes received and not read yet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True while a read is waiting for bytes that have not arrived. */
  get waiting(): boolean {
    return this.#pending.length > 0;
  }

  /** True once every byte of the body arrived. */
  get ended(): boolean {
    return this.#ended;
  }

  // ---- connection side ----

  push(chunk: Buffer): void {
    if (this.#ended || this.#error !== null || this.#discarding) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#pending.length > 0) this.#settle();
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#pending.length > 0) this.#settle();
  }

  /**
   * Nobody will read the rest (the response was sent first): drop what is buffered and whatever
   * still arrives, but keep the end — a read waiting for more is answered with the end of the body
   * once the server has drained it.
   */
  discard(): void {
    if (this.#error !== null) return;
    this.#discarding = true;
    this.#chunks = [];
    this.#buffered = 0;
    if (this.#pending.length > 0) this.#settle();
  }

  /** The body cannot be completed (bad chunk, timeout, disconnect): every read now rejects. */
  fail(error: unknown): void {
    if (this.#error !== null || this.#ended) return;
    this.#error = error;
    this.#chunks = [];
    this.#buffered = 0;
    const pending = this.#pending;
    this.#pending = [];
    for (const read of pending) read.reject(error);
  }

  // ---- application side ----

  read(size?: number): Promise<Buffer> {
    return this.#request(ReadKind.Bytes, sizeArgument(size)) as Promise<Buffer>;
  }

  readline(size?: number): Promise<Buffer> {
    return this.#request(ReadKind.Line, sizeArgument(size)) as Promise<Buffer>;
  }

  async readlines(hint = -1): Promise<Buffer[]> {
    const lines: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint > 0 && total >= hint) return lines;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: async () => {
        const chunk = await this.#request(ReadKind.Chunk, -1);
        return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
      },
      return: async () => ({ done: true, value: undefined }),
    };
  }

  /**
   * The next chunk without waiting: a buffered chunk, null at the end of the body, or undefined
   * when its next bytes have not arrived (or another read is already waiting for them). Throws
   * the body's error. For a caller that passes the body on as it comes (the Node bridge pushes
   * it into `req`) without a promise per chunk.
   */
  readChunkNow(): Buffer | null | undefined {
    if (this.#error !== null) throw this.#error;
    if (this.#pending.length > 0) return undefined;
    return this.#tryRead(ReadKind.Chunk, -1);
  }

  #request(kind: ReadKind, size: number): Promise<Buffer | null> {
    if (this.#error !== null) return handled(Promise.reject(this.#error));
    if (this.#pending.length === 0) {
      const ready = this.#tryRead(kind, size);
      if (ready !== undefined) return Promise.resolve(ready);
    }
    const read = new Promise<Buffer | null>((resolve, reject) => {
      this.#pending.push({ kind, size, resolve, reject });
    });
    this.#source?.wantBody();
    // A read the application never awaited must not turn a disconnect into an unhandled rejection
    // that ends the process; an application that awaits it still sees the error.
    return handled(read);
  }

  /** Answer pending reads, in order, as far as the buffered bytes allow. */
  #settle(): void {
    while (this.#pending.length > 0) {
      const read = this.#pending[0]!;
      const value = this.#tryRead(read.kind, read.size);
      if (value === undefined) return;
      this.#pending.shift();
      read.resolve(value);
    }
  }

  /** The answer to a read if it can be given now; `undefined` if it has to wait. */
  #tryRead(kind: ReadKind, size: number): Buffer | null | undefined {
    if (kind === ReadKind.Chunk) {
      if (this.#buffered > 0) {
        const chunk = this.#chunks.shift()!;
        this.#buffered -= chunk.length;
        this.#lineScan.chunks = 0;
        this.#lineScan.offset = 0;
        this.#source?.bodyConsumed();
        return chunk;
      }
      return this.#ended ? null : undefined;
    }
    if (size === 0) return EMPTY;
    let want: number;
    if (kind === ReadKind.Line) {
      const newline = this.#indexOfNewline();
      if (newline !== -1) want = newline + 1;
      else if (this.#ended) want = this.#buffered;
      else if (size > 0 && this.#buffered >= size) want = size;
      else return undefined;
      if (size > 0 && want > size) want = size;
    } else if (size < 0) {
      if (!this.#ended) return undefined;
      want = this.#buffered;
    } else if (this.#buffered >= size) {
      want = size;
    } else if (this.#ended) {
      want = this.#buffered;
    } else {
      return undefined;
    }
    return this.#take(want);
  }

  /**
   * Offset of the first newline in the buffered bytes, or -1. Chunks already searched while a
   * line waits are not searched again, so a long line arriving in pieces costs linear time.
   */
  #indexOfNewline(): number {
    const chunks = this.#chunks;
    let offset = this.#lineScan.offset;
    for (let k = this.#lineScan.chunks; k < chunks.length; k++) {
      const i = chunks[k]!.indexOf(0x0a);
      if (i !== -1) return offset + i;
      offset += chunks[k]!.length;
      this.#lineScan.chunks = k + 1;
      this.#lineScan.offset = offset;
    }
    return -1;
  }

  /** Remove and return the first `n` buffered bytes (no copy when they are one whole chunk). */
  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.#lineScan.chunks = 0;
    this.#lineScan.offset = 0;
    const chunks = this.#chunks;
    let out: Buffer;
    const first = chunks[0]!;
    if (first.length === n) {
      chunks.shift();
      out = first;
    } else if (first.length > n) {
      out = first.subarray(0, n);
      chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let copied = 0;
      while (copied < n) {
        const chunk = chunks[0]!;
        const take = Math.min(chunk.length, n - copied);
        chunk.copy(out, copied, 0, take);
        copied += take;
        if (take === chunk.length) chunks.shift();
        else chunks[0] = chunk.subarray(take);
      }
    }
    this.#buffered -= n;
    this.#source?.bodyConsumed();
    return out;
  }
}

/** A read size: a whole number of bytes, or "everything" for undefined and negative values. */
function sizeArgument(size: number | undefined): number {
  if (size === undefined || size === null) return -1;
  if (typeof size !== 'number' || Number.isNaN(size)) throw new TypeError(`a read size must be a number, not ${String(size)}`);
  return size < 0 ? -1 : Math.floor(size);
}

function ignore(): void {}

/** `promise`, marked as handled: its rejection reaches whoever awaits it, and nobody else. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(ignore);
  return promise;
}

/** The `wsgi.input` of a request without a body: always at its end. Shared; it has no state. */
export const EMPTY_INPUT: WsgiInput = new BodyInput(null);
(EMPTY_INPUT as BodyInput).end();
