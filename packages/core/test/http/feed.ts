/**
 * Feeding helpers for the pure protocol tests: run the head parser and the chunked decoder over
 * bytes delivered whole, split in two at an offset, or one byte at a time, and reduce what
 * happened to a comparable outcome. Every loop is bounded, so a parser that keeps asking for more
 * (or never stops) fails the test instead of hanging it (waitress `tests/test_parser.py` `feed`).
 */

import { expect } from 'vitest';
import { HttpError } from '../../src/errors.js';
import { ChunkedDecoder, type ChunkedLimits } from '../../src/http/chunked.js';
import { HeadScan, parseRequestHead, type HeadLimits, type RequestHead } from '../../src/http/request-head.js';

export const LIMITS: HeadLimits = { maxRequestLine: 8192, maxHeaderSize: 16384, maxHeaders: 100 };

export const CHUNKED_LIMITS: ChunkedLimits = {
  maxBodySize: 0,
  maxChunkExtensions: 16384,
  maxTrailerSize: 16384,
  maxTrailers: 100,
};

/** Bytes of a latin1 string: each char is one byte, so `\r`, `\n`, `\x00` and `\xff` stay exact. */
export function bytes(s: string): Buffer {
  // Buffer.alloc is never pooled: the Buffer owns its ArrayBuffer, which the zero-copy checks need.
  const b = Buffer.alloc(s.length);
  b.write(s, 'latin1');
  return b;
}

/** Every field of a parsed head, as a plain object. */
export type HeadSnapshot = {
  size: number;
  method: string;
  target: string;
  targetForm: RequestHead['targetForm'];
  version: number;
  rawHeaders: string[];
  contentLength: string[] | null;
  transferEncoding: string[] | null;
  connection: string[] | null;
  host: string | null;
  hostCount: number;
  expect: string | null;
  upgrade: string | null;
};

export type ErrorOutcome = { kind: 'error'; status: number; code: string };

export type HeadOutcome = { kind: 'head'; head: HeadSnapshot } | { kind: 'incomplete' } | ErrorOutcome;

export function snapshot(head: RequestHead): HeadSnapshot {
  return {
    size: head.size,
    method: head.method,
    target: head.target,
    targetForm: head.targetForm,
    version: head.version,
    rawHeaders: [...head.rawHeaders],
    contentLength: head.contentLength === null ? null : [...head.contentLength],
    transferEncoding: head.transferEncoding === null ? null : [...head.transferEncoding],
    connection: head.connection === null ? null : [...head.connection],
    host: head.host,
    hostCount: head.hostCount,
    expect: head.expect,
    upgrade: head.upgrade,
  };
}

/** An HttpError as an outcome; anything else thrown is rethrown so the test fails on it. */
export function errorOutcome(error: unknown): ErrorOutcome {
  if (!(error instanceof HttpError)) throw error;
  expect(error.name).toBe('HttpError');
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  return { kind: 'error', status: error.status, code: error.code };
}

/**
 * Feed `chunks` to the head parser one after another, as the connection does: the buffer grows
 * by a fresh copy each time (never with spare bytes past `end`), the same {@link HeadScan} is
 * passed back in, and parsing stops at the first head or error. After each `null` the parser is
 * asked again with no new bytes, which must change nothing.
 *
 * @param prefix bytes before the head in the buffer (a previous request), skipped with `start`.
 */
export function feedHead(chunks: readonly Buffer[], limits: HeadLimits = LIMITS, prefix = 0): HeadOutcome {
  const scan = new HeadScan();
  let buf = Buffer.alloc(prefix, 0x41);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const bound = total + 4;
  let iterations = 0;
  for (const chunk of chunks) {
    if (++iterations > bound) throw new Error(`feeding loop ran ${iterations} times for ${total} bytes`);
    if (chunk.length === 0) continue;
    buf = Buffer.concat([buf, chunk]);
    let head: RequestHead | null;
    try {
      head = parseRequestHead(buf, prefix, buf.length, limits, scan);
      if (head === null) head = parseRequestHead(buf, prefix, buf.length, limits, scan);
    } catch (error) {
      return errorOutcome(error);
    }
    if (head !== null) return { kind: 'head', head: snapshot(head) };
  }
  return { kind: 'incomplete' };
}

/** The input delivered in one piece. */
export function whole(input: Buffer, limits: HeadLimits = LIMITS, prefix = 0): HeadOutcome {
  return feedHead([input], limits, prefix);
}

/** The input delivered in two pieces, the first `k` bytes long. */
export function splitAt(input: Buffer, k: number, limits: HeadLimits = LIMITS): HeadOutcome {
  return feedHead([input.subarray(0, k), input.subarray(k)], limits);
}

/** The input delivered one byte at a time. */
export function byteByByte(input: Buffer, limits: HeadLimits = LIMITS): HeadOutcome {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i++) chunks.push(input.subarray(i, i + 1));
  return feedHead(chunks, limits);
}

/** The input cut at the given offsets (sorted, deduplicated, within the input). */
export function cutAt(input: Buffer, cuts: readonly number[], limits: HeadLimits = LIMITS): HeadOutcome {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), input.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(input.subarray(from, p));
    from = p;
  }
  chunks.push(input.subarray(from));
  return feedHead(chunks, limits);
}

export type ChunkedOutcome =
  | {
      kind: 'body';
      data: string;
      trailers: string[] | null;
      /** Bytes the decoder consumed, in total. */
      consumed: number;
      done: boolean;
    }
  | ErrorOutcome;

/**
 * Decode `input[start..)` delivered in pieces cut at `cuts` (offsets into `input`), with a
 * decoder kept across pieces, the way the exchange feeds it. Each delivered chunk must be a
 * non-empty view into `input`. Once the decoder is done, later pieces are offered too and must
 * not be consumed.
 */
export function decodeChunked(
  input: Buffer,
  cuts: readonly number[] = [],
  limits: ChunkedLimits = CHUNKED_LIMITS,
  start = 0,
): ChunkedOutcome {
  const decoder = new ChunkedDecoder(limits);
  const parts: Buffer[] = [];
  const sink = {
    onBodyData(chunk: Buffer): void {
      expect(chunk.length).toBeGreaterThan(0);
      expect(chunk.buffer).toBe(input.buffer);
      parts.push(chunk);
    },
  };
  const points = [...new Set(cuts.filter((c) => c > start && c < input.length))].sort((a, b) => a - b);
  points.push(input.length);
  let from = start;
  let consumed = 0;
  let iterations = 0;
  try {
    for (const p of points) {
      if (++iterations > input.length + 4) throw new Error('decoding loop did not terminate');
      const used = decoder.decode(input, from, p, sink);
      expect(used).toBeGreaterThanOrEqual(0);
      expect(used).toBeLessThanOrEqual(p - from);
      if (!decoder.done) expect(used).toBe(p - from);
      consumed += used;
      from = p;
    }
  } catch (error) {
    return errorOutcome(error);
  }
  const data = Buffer.concat(parts).toString('latin1');
  expect(decoder.received).toBe(data.length);
  return { kind: 'body', data, trailers: decoder.trailers, consumed, done: decoder.done };
}
