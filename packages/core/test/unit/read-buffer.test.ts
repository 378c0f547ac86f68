/**
 * The connection's read buffer (src/engine/read-buffer.ts): a chunk on an empty buffer is taken
 * as it is, bytes already received are never moved or overwritten (body chunks handed to an app
 * may be views of them), growth is by doubling, and consuming everything lets the buffer go.
 */

import { describe, expect, test } from 'vitest';
import { ReadBuffer } from '../../src/engine/read-buffer.js';

const text = (input: ReadBuffer): string => (input.buf === null ? '' : input.buf.toString('latin1', input.start, input.end));

describe('ReadBuffer', () => {
  test('a chunk arriving on an empty buffer becomes the buffer, without a copy', () => {
    const input = new ReadBuffer();
    expect(input.empty).toBe(true);
    const chunk = Buffer.from('GET / HTTP/1.1\r\n\r\n', 'latin1');
    input.append(chunk);
    expect(input.buf).toBe(chunk);
    expect([input.start, input.end, input.length, input.empty]).toEqual([0, chunk.length, chunk.length, false]);
  });

  test('chunks arriving on a partial request are appended in order', () => {
    const input = new ReadBuffer();
    input.append(Buffer.from('GET / HT', 'latin1'));
    input.append(Buffer.from('TP/1.1\r\n', 'latin1'));
    input.append(Buffer.from('\r\n', 'latin1'));
    expect(text(input)).toBe('GET / HTTP/1.1\r\n\r\n');
    input.consume(4);
    expect(text(input)).toBe('/ HTTP/1.1\r\n\r\n');
    input.append(Buffer.from('NEXT', 'latin1'));
    expect(text(input)).toBe('/ HTTP/1.1\r\n\r\nNEXT');
  });

  test('bytes received before are never overwritten: views of them stay what they were', () => {
    const input = new ReadBuffer();
    const views: [Buffer, string][] = [];
    for (let i = 0; i < 200; i++) {
      const piece = `chunk-${i};`;
      input.append(Buffer.from(piece, 'latin1'));
      // Take a view of the newest bytes, as a body chunk handed to an app would be, and consume them.
      const view = input.buf!.subarray(input.end - piece.length, input.end);
      views.push([view, piece]);
      if (i % 3 === 0) input.consume(input.length - 1);
    }
    for (const [view, piece] of views) expect(view.toString('latin1')).toBe(piece);
  });

  test('a head arriving a byte at a time costs a handful of allocations, not one per byte', () => {
    const input = new ReadBuffer();
    const buffers = new Set<Buffer>();
    for (let i = 0; i < 100_000; i++) {
      input.append(Buffer.from([0x61]));
      buffers.add(input.buf!);
    }
    expect(input.length).toBe(100_000);
    // The first byte is taken as it is; then 4096 bytes, doubling to 131072.
    expect(buffers.size).toBeLessThanOrEqual(8);
  });

  test('consuming everything lets the buffer go; copy() hands out a copy of what is left', () => {
    const input = new ReadBuffer();
    expect(input.copy()).toEqual(Buffer.alloc(0));
    input.append(Buffer.from('abcdef', 'latin1'));
    input.consume(2);
    const copy = input.copy();
    expect(copy.toString('latin1')).toBe('cdef');
    copy[0] = 0x7a;
    expect(text(input)).toBe('cdef');
    input.consume(4);
    expect([input.buf, input.start, input.end, input.empty]).toEqual([null, 0, 0, true]);
    input.append(Buffer.from('x', 'latin1'));
    input.clear();
    expect([input.buf, input.length]).toEqual([null, 0]);
  });
});
