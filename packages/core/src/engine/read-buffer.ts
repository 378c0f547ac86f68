/**
 * A connection's read buffer: the bytes received and not yet consumed, `buf[start..end)`.
 *
 *   buf:  [ consumed … | start ─ unconsumed ─ end | room to append … ]
 *
 * Bytes before `end` are never moved or overwritten: body chunks handed to an application may be
 * views of them. A chunk that arrives on an empty buffer becomes the buffer as it is; one that
 * arrives on a partial request is appended into room of our own, which grows by doubling, so a
 * head arriving a byte at a time costs linear time, not quadratic.
 *
 * @example
 * const input = new ReadBuffer();
 * input.append(chunk);
 * const head = parseRequestHead(input.buf!, input.start, input.end, limits, scan);
 * if (head !== null) input.consume(head.size);
 */
export class ReadBuffer {
  /** Null when nothing is buffered. */
  buf: Buffer | null = null;
  start = 0;
  end = 0;
  /** `buf` is our own allocation, with room after `end` to append into. */
  #owned = false;

  /** True when no byte waits to be consumed. */
  get empty(): boolean {
    return this.start === this.end;
  }

  /** Bytes waiting to be consumed. */
  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (this.start === this.end) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.#owned = false;
    } else if (this.#owned && this.buf!.length - this.end >= chunk.length) {
      chunk.copy(this.buf!, this.end);
      this.end += chunk.length;
    } else {
      const left = this.end - this.start;
      const merged = Buffer.allocUnsafe(Math.max(2 * (left + chunk.length), 4096));
      this.buf!.copy(merged, 0, this.start, this.end);
      chunk.copy(merged, left);
      this.buf = merged;
      this.start = 0;
      this.end = left + chunk.length;
      this.#owned = true;
    }
  }

  /** The first `n` unconsumed bytes were used; the buffer is let go once all of it is. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.clear();
  }

  /** Drop whatever is buffered. */
  clear(): void {
    this.buf = null;
    this.start = this.end = 0;
  }

  /** A copy of the unconsumed bytes, for whoever takes them over (an upgrade, the onClientError hook). */
  copy(): Buffer {
    return this.start === this.end ? Buffer.alloc(0) : Buffer.from(this.buf!.subarray(this.start, this.end));
  }
}
