/**
 * `wsgi.file_wrapper`: turn a file into a body that is read block by block, never whole.
 */

import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Something a file wrapper can read: a `FileHandle`, a Node `Readable`, or any object with `read(size)`. */
export type FileLike =
  | FileHandle
  | Readable
  | { read(size: number): Uint8Array | string | null | Promise<Uint8Array | string | null>; close?(): unknown };

const DEFAULT_BLOCK_SIZE = 64 * 1024;

/**
 * An async-iterable body over a file. Closing it (the server always does) closes the file.
 *
 * @example
 * const app = async (environ, startResponse) => {
 *   const file = await fs.promises.open('report.pdf');
 *   const { size } = await file.stat();
 *   startResponse('200 OK', [['Content-Type', 'application/pdf'], ['Content-Length', String(size)]]);
 *   return environ['wsgi.file_wrapper'](file, 65536);
 * };
 */
export class FileWrapper implements AsyncIterable<Uint8Array | string> {
  readonly file: FileLike;
  readonly blockSize: number;
  #closed = false;

  constructor(file: FileLike, blockSize = DEFAULT_BLOCK_SIZE) {
    if (file === null || typeof file !== 'object') throw new TypeError('wsgi.file_wrapper needs a FileHandle, a Readable or an object with read()');
    this.file = file;
    this.blockSize = Number.isInteger(blockSize) && blockSize > 0 ? blockSize : DEFAULT_BLOCK_SIZE;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array | string> {
    try {
      const file = this.file as unknown as Record<string | symbol, unknown>;
      if (typeof file.stat === 'function' && typeof file.fd === 'number') {
        yield* this.#readHandle(this.file as FileHandle);
      } else if (typeof file[Symbol.asyncIterator] === 'function' && typeof file.pipe === 'function') {
        for await (const chunk of this.file as Readable) yield chunk as Uint8Array | string;
      } else {
        const reader = this.file as { read(size: number): unknown };
        for (;;) {
          let block = reader.read(this.blockSize);
          if (block instanceof Promise) block = await block;
          if (block === null || block === undefined || (block as { length: number }).length === 0) return;
          yield block as Uint8Array | string;
        }
      }
    } finally {
      await this.close();
    }
  }

  async *#readHandle(handle: FileHandle): AsyncGenerator<Uint8Array> {
    for (;;) {
      // A fresh buffer per block: the previous one may still be queued on the socket.
      const buffer = Buffer.allocUnsafe(this.blockSize);
      const { bytesRead } = await handle.read(buffer, 0, this.blockSize, null);
      if (bytesRead === 0) return;
      yield bytesRead === this.blockSize ? buffer : buffer.subarray(0, bytesRead);
    }
  }

  /** Close the underlying file. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const file = this.file as { close?: () => unknown; destroy?: () => unknown };
    if (typeof file.close === 'function') await file.close();
    else if (typeof file.destroy === 'function') file.destroy();
  }
}

/** The `wsgi.file_wrapper` callable: `(file, blockSize?) => FileWrapper`. */
export function fileWrapper(file: FileLike, blockSize?: number): FileWrapper {
  return new FileWrapper(file, blockSize);
}
