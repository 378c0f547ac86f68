/**
 * A connection's output: everything goes out in order on one socket. While the connection runs a
 * batch (parsing and serving what one read brought), text is gathered into one string and written
 * once when the batch ends, so the responses to a run of pipelined requests leave in one write.
 * Text is latin1: every byte of it is the byte sent.
 *
 * It also keeps the marks the write deadline compares against, to tell a client that reads
 * slowly (another period) from one that stopped reading (closed).
 *
 * @example
 * const output = new Output(socket);
 * output.beginBatch();
 * output.send('HTTP/1.1 200 OK\r\n…');
 * output.send('HTTP/1.1 200 OK\r\n…');
 * output.endBatch(); // one write
 */

import type { Socket } from 'node:net';
import { unsentOnWire } from './deadlines.js';

/** Text gathered in a batch beyond which it is written at once, so output backpressure sees it. */
export const BATCH_TEXT_LIMIT = 16 * 1024;

export class Output {
  readonly socket: Socket;
  #batching = false;
  #batchText = '';
  /** Bytes queued on the socket when the write deadline was armed, to tell progress from a stall. */
  #writeMark = 0;
  /** The same, in bytes of writes in flight that the kernel has not taken yet. */
  #wireMark = 0;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Send `data` (text as latin1) after everything sent before. */
  send(data: string | Buffer): void {
    if (this.#batching) {
      if (typeof data === 'string') {
        this.#batchText += data;
        if (this.#batchText.length >= BATCH_TEXT_LIMIT) this.flush();
        return;
      }
      this.flush();
    }
    const socket = this.socket;
    if (socket.destroyed) return;
    if (typeof data === 'string') socket.write(data, 'latin1');
    else socket.write(data);
  }

  /** Gather text from now on, until `endBatch()`. */
  beginBatch(): void {
    this.#batching = true;
  }

  /** Write what the batch gathered, and stop gathering. */
  endBatch(): void {
    this.#batching = false;
    this.flush();
  }

  /** Write the text gathered so far (the batch goes on). */
  flush(): void {
    const text = this.#batchText;
    if (text === '') return;
    this.#batchText = '';
    if (!this.socket.destroyed) this.socket.write(text, 'latin1');
  }

  /** The write deadline is armed now: remember how much is still to go. */
  markUnsent(): void {
    this.#writeMark = this.socket.writableLength;
    this.#wireMark = unsentOnWire(this.socket);
  }

  /**
   * Did the client read anything since `markUnsent()`? Progress is fewer bytes queued, or — while
   * one large write is in flight, which the stream counts as a whole until it is done — fewer of
   * its bytes left for the kernel. False when nothing is queued.
   */
  progressed(): boolean {
    const left = this.socket.writableLength;
    return left > 0 && (left < this.#writeMark || unsentOnWire(this.socket) < this.#wireMark);
  }
}
