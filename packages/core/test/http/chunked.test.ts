/**
 * The chunked transfer coding decoder (src/http/chunked.ts), RFC 9112 §7.1. Each vector is
 * decoded whole, split in two at every offset, and one byte at a time, followed by the bytes of a
 * next request that must be left alone.
 */

import { describe, expect, test } from 'vitest';
import { HttpError } from '../../src/errors.js';
import { ChunkedDecoder, type ChunkedLimits } from '../../src/http/chunked.js';
import { CHUNKED_LIMITS, bytes, decodeChunked, type ChunkedOutcome } from './feed.js';

const NEXT = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';

type Vector = {
  /** What is checked, with the RFC rule. */
  name: string;
  /** The chunked body, exactly. */
  body: string;
  limits?: Partial<ChunkedLimits>;
} & ({ data: string; trailers?: string[] } | { error: [status: number, code: string] } | { incomplete: string; trailers?: string[] });

const VALID: Vector[] = [
  { name: 'one chunk (RFC 9112 §7.1)', body: '5\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  {
    name: 'several chunks (RFC 9112 §7.1 *chunk)',
    body: '5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n',
    data: 'hello world',
  },
  { name: 'no chunk, only the last-chunk (RFC 9112 §7.1)', body: '0\r\n\r\n', data: '' },
  { name: 'last-chunk of several zeros (RFC 9112 §7.1 last-chunk = 1*("0"))', body: '000\r\n\r\n', data: '' },
  { name: 'upper-case hex size (RFC 5234 HEXDIG)', body: `A\r\n0123456789\r\n1F\r\n${'x'.repeat(31)}\r\n0\r\n\r\n`, data: `0123456789${'x'.repeat(31)}` },
  { name: 'lower-case hex size (RFC 9110 §1.2: HEXDIG is case-insensitive)', body: `a\r\n0123456789\r\n1f\r\n${'y'.repeat(31)}\r\n0\r\n\r\n`, data: `0123456789${'y'.repeat(31)}` },
  { name: 'leading zeros in chunk-size (RFC 9112 §7.1 chunk-size = 1*HEXDIG)', body: '0005\r\nhello\r\n0000\r\n\r\n', data: 'hello' },
  {
    name: 'many leading zeros in chunk-size (RFC 9112 §7.1)',
    body: `${'0'.repeat(40)}5\r\nhello\r\n0\r\n\r\n`,
    data: 'hello',
  },
  {
    name: 'chunk data may hold CRLF and a fake last-chunk (RFC 9112 §7.1 chunk-data = 1*OCTET)',
    body: '7\r\n0\r\n\r\nab\r\n0\r\n\r\n',
    data: '0\r\n\r\nab',
  },
  {
    name: 'chunk data is any octet, NUL and 0xFF included (RFC 9112 §7.1)',
    body: '4\r\n\x00\xff\r\x80\r\n0\r\n\r\n',
    data: '\x00\xff\r\x80',
  },
  // ---- chunk extensions (RFC 9112 §7.1.1) ----
  { name: 'extension name only (RFC 9112 §7.1.1)', body: '5;a\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  { name: 'extension with a token value (RFC 9112 §7.1.1)', body: '5;a=b\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  {
    name: 'several extensions (RFC 9112 §7.1.1 *( ... ))',
    body: "5;a=b;c;d=e;!#$%&'*+-.^_`|~0=x\r\nhello\r\n0\r\n\r\n",
    data: 'hello',
  },
  {
    name: 'quoted-string value with quoted-pairs (RFC 9110 §5.6.4)',
    body: '5;a="q \\" \\\\ x;y=z"\r\nhello\r\n0\r\n\r\n',
    data: 'hello',
  },
  {
    name: 'quoted-string with HTAB and obs-text (RFC 9110 §5.6.4 qdtext)',
    body: '5;a="\t\x80\xff !#[]~"\r\nhello\r\n0\r\n\r\n',
    data: 'hello',
  },
  {
    name: 'quoted-pair of HTAB and obs-text (RFC 9110 §5.6.4 quoted-pair)',
    body: '5;a="\\\t\\\x80"\r\nhello\r\n0\r\n\r\n',
    data: 'hello',
  },
  { name: 'empty quoted-string (RFC 9110 §5.6.4)', body: '5;a=""\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  { name: 'BWS (SP) before ";" (RFC 9112 §7.1.1)', body: '5 ;a\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  { name: 'BWS (HTAB) before ";" (RFC 9112 §7.1.1)', body: '5\t;a\r\nhello\r\n0\r\n\r\n', data: 'hello' },
  {
    name: 'BWS everywhere the grammar allows it (RFC 9112 §7.1.1, RFC 9110 §5.6.3)',
    body: '5 \t; a = b \t; c = "d"\r\nhello\r\n0\r\n\r\n',
    data: 'hello',
  },
  { name: 'extension on the last-chunk (RFC 9112 §7.1 last-chunk)', body: '0;last=1\r\n\r\n', data: '' },
  // ---- trailer section (RFC 9112 §7.1.2) ----
  {
    name: 'trailer fields, OWS removed (RFC 9112 §7.1.2, §5.1)',
    body: '5\r\nhello\r\n0\r\nX-A: 1\r\nx-b:  two words \t\r\n\r\n',
    data: 'hello',
    trailers: ['X-A', '1', 'x-b', 'two words'],
  },
  {
    name: 'trailer field with an empty value and one with obs-text (RFC 9110 §5.5)',
    body: '0\r\nX:\r\nY: caf\xe9\r\n\r\n',
    data: '',
    trailers: ['X', '', 'Y', 'caf\xe9'],
  },
  {
    name: 'trailers exactly at maxTrailers and maxTrailerSize (RFC 9112 §7.1.2)',
    body: '0\r\nA: 1\r\nB: 123456789\r\n\r\n',
    limits: { maxTrailers: 2, maxTrailerSize: 20 },
    data: '',
    trailers: ['A', '1', 'B', '123456789'],
  },
  // ---- limits, at the limit ----
  {
    name: 'body exactly maxBodySize bytes (413 only beyond)',
    body: '5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n',
    limits: { maxBodySize: 10 },
    data: 'helloworld',
  },
  {
    name: 'extensions exactly maxChunkExtensions bytes, across chunks (CVE-2024-22019 cap)',
    body: '1;abc\r\nx\r\n1;abc\r\ny\r\n0\r\n\r\n',
    limits: { maxChunkExtensions: 8 },
    data: 'xy',
  },
  {
    name: 'chunk-size of 2^48 is not refused when there is no body limit',
    body: '1000000000000\r\nabc',
    incomplete: 'abc',
  },
  { name: 'chunk data not complete yet', body: '5\r\nhel', incomplete: 'hel' },
  { name: 'chunk data complete, CRLF not yet', body: '5\r\nhello\r', incomplete: 'hello' },
  { name: 'last-chunk without the final CRLF', body: '5\r\nhello\r\n0\r\n', incomplete: 'hello' },
  { name: 'trailer line not complete yet', body: '0\r\nX: y', incomplete: '' },
  { name: 'trailer section without the final CRLF', body: '0\r\nX: y\r\n', incomplete: '', trailers: ['X', 'y'] },
  { name: 'final CR without LF yet', body: '0\r\n\r', incomplete: '' },
];

const INVALID: Vector[] = [
  // ---- chunk-size (RFC 9112 §7.1 chunk-size = 1*HEXDIG) ----
  ...(
    [
      ['"0x5"', '0x5'],
      ['"+5"', '+5'],
      ['"-0"', '-0'],
      ['empty', ''],
      ['"g"', 'g'],
      ['"5g"', '5g'],
      ['leading SP', ' 5'],
      ['leading HTAB', '\t5'],
      ['"5.0"', '5.0'],
    ] as const
  ).map(
    ([what, size]): Vector => ({
      name: `chunk-size ${what} (RFC 9112 §7.1 chunk-size = 1*HEXDIG)`,
      body: `${size}\r\nhello\r\n0\r\n\r\n`,
      error: [400, 'ROCKET_ERR_BAD_CHUNK'],
    }),
  ),
  {
    name: '"5 " whitespace after the size without an extension (RFC 9112 §7.1.1: BWS only before ";")',
    body: '5 \r\nhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  {
    name: 'chunk-size above 2^48 with no body limit (overflow guard)',
    body: 'fffffffffffffffffffff\r\nabc',
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  {
    name: 'chunk-size above 2^48 with a body limit is 413',
    body: 'fffffffffffffffffffff\r\nabc',
    limits: { maxBodySize: 1000 },
    error: [413, 'ROCKET_ERR_BODY_TOO_LARGE'],
  },
  // ---- chunk-data CRLF (RFC 9112 §7.1 chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF) ----
  {
    name: 'chunk data followed by a byte other than CR (RFC 9112 §7.1)',
    body: '5\r\nhelloX\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  {
    name: 'chunk size shorter than the data sent (RFC 9112 §7.1)',
    body: '5\r\nhello world\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  {
    name: '"1\\r\\nZ" then the next request instead of CRLF (RFC 9112 §7.1)',
    body: `1\r\nZ${NEXT}`,
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  {
    name: 'chunk data followed by a bare LF (RFC 9112 §7.1)',
    body: '5\r\nhello\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  {
    name: 'chunk data followed by CR and not LF (RFC 9112 §7.1)',
    body: '5\r\nhello\rX0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_CHUNK'],
  },
  // ---- bare LF / bare CR in chunk lines (RFC 9112 §2.2, §7.1) ----
  {
    name: 'chunk-size line ended by a bare LF (RFC 9112 §7.1, §2.2)',
    body: '5\nhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'last-chunk line ended by a bare LF (RFC 9112 §7.1, §2.2)',
    body: '5\r\nhello\r\n0\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'chunk line with an extension name ended by a bare LF (RFC 9112 §2.2)',
    body: '5;a\nhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'chunk line with an extension value ended by a bare LF (RFC 9112 §2.2)',
    body: '5;a=b\nhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'chunk-size line ended by a bare CR (RFC 9112 §2.2)',
    body: '5\rhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: '"5\\r\\r;x" (RFC 9112 §2.2)',
    body: '5\r\r;x\r\nhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'extension line ended by a bare CR (RFC 9112 §2.2)',
    body: '5;a\rhello\r\n0\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'final CRLF replaced by CR + other byte: "0\\r\\n\\rX" (RFC 9112 §2.2)',
    body: '0\r\n\rX',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'final CRLF replaced by CR CR (RFC 9112 §2.2)',
    body: '0\r\n\r\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  // ---- malformed extensions (RFC 9112 §7.1.1) ----
  ...(
    [
      ['an empty name', '5;\r\n'],
      ['"=value" without a name', '5;=b\r\n'],
      ['";;"', '5;;a\r\n'],
      ['"=" without a value', '5;a=\r\n'],
      ['a value after a space without "="', '5;a b\r\n'],
      ['two values', '5;a=b c\r\n'],
      ['"a=b=c"', '5;a=b=c\r\n'],
      ['junk after a quoted value', '5;a="b"c\r\n'],
      ['an unterminated quoted value', '5;a="b\r\n'],
      ['NUL in a quoted value', '5;a="\x00"\r\n'],
      ['DEL in a quoted value', '5;a="\x7f"\r\n'],
      ['a quoted-pair of LF', '5;a="\\\n"\r\n'],
      ['a quoted-pair of NUL', '5;a="\\\x00"\r\n'],
      ['NUL in a name', '5;a\x00\r\n'],
      ['a non-token name character', '5;a@b\r\n'],
      ['a quote inside a token value', '5;a=b"c"\r\n'],
      ['whitespace after the last value (chunk-ext has no BWS before CRLF)', '5;a=b \r\n'],
      ['whitespace after the last name (chunk-ext has no BWS before CRLF)', '5;a\t\r\n'],
    ] as const
  ).map(
    ([what, line]): Vector => ({
      name: `chunk extension with ${what} (RFC 9112 §7.1.1)`,
      body: `${line}hello\r\n0\r\n\r\n`,
      error: [400, 'ROCKET_ERR_BAD_CHUNK'],
    }),
  ),
  // ---- malformed trailers (RFC 9112 §7.1.2, §5) ----
  {
    name: 'obs-fold in the trailer section (RFC 9112 §5.2)',
    body: '0\r\nX: a\r\n b\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'trailer section starting with whitespace (RFC 9112 §5.2)',
    body: '0\r\n X: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'trailer line without a colon (RFC 9112 §5.1)',
    body: '0\r\nX\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'trailer line that looks like a request-line (RFC 9112 §5.1)',
    body: '0\r\nGET / HTTP/1.1\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'whitespace before the colon in a trailer (RFC 9112 §5.1)',
    body: '0\r\nX : a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'empty trailer field name (RFC 9110 §5.1)',
    body: '0\r\n: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'NUL in a trailer value (RFC 9110 §5.5)',
    body: '0\r\nX: a\x00b\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'bare CR inside a trailer value (RFC 9112 §2.2)',
    body: '0\r\nX: a\rb\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TRAILER'],
  },
  {
    name: 'trailer line ended by a bare LF (RFC 9112 §2.2)',
    body: '0\r\nX: a\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'trailer section ended by a bare LF (RFC 9112 §2.2)',
    body: '0\r\nX: a\r\n\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'last-chunk followed by a bare LF (RFC 9112 §2.2)',
    body: '0\r\n\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  // ---- limits ----
  {
    name: 'trailer section over maxTrailerSize (RFC 6585 §5: 431)',
    body: '0\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n\r\n',
    limits: { maxTrailerSize: 16 },
    error: [431, 'ROCKET_ERR_HEADER_TOO_LARGE'],
  },
  {
    name: 'trailer section one byte over maxTrailerSize (RFC 6585 §5: 431)',
    body: '0\r\nA: 1\r\nB: 1234567890\r\n\r\n',
    limits: { maxTrailerSize: 20 },
    error: [431, 'ROCKET_ERR_HEADER_TOO_LARGE'],
  },
  {
    name: 'a trailer line that never ends is refused once over maxTrailerSize (RFC 6585 §5)',
    body: `0\r\nX: ${'a'.repeat(40)}`,
    limits: { maxTrailerSize: 16 },
    error: [431, 'ROCKET_ERR_HEADER_TOO_LARGE'],
  },
  {
    name: 'one trailer field more than maxTrailers (RFC 6585 §5: 431)',
    body: '0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n',
    limits: { maxTrailers: 2 },
    error: [431, 'ROCKET_ERR_TOO_MANY_HEADERS'],
  },
  {
    name: 'extension one byte over maxChunkExtensions (CVE-2024-22019: 413)',
    body: '5;abcdefgh\r\nhello\r\n0\r\n\r\n',
    limits: { maxChunkExtensions: 8 },
    error: [413, 'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE'],
  },
  {
    name: 'extensions over maxChunkExtensions summed across chunks (CVE-2024-22019)',
    body: '1;abc\r\nx\r\n1;abcd\r\ny\r\n0\r\n\r\n',
    limits: { maxChunkExtensions: 8 },
    error: [413, 'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE'],
  },
  {
    name: 'whitespace counts toward maxChunkExtensions (CVE-2024-22019)',
    body: `5${' '.repeat(20)};a\r\nhello\r\n0\r\n\r\n`,
    limits: { maxChunkExtensions: 8 },
    error: [413, 'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE'],
  },
  {
    name: 'maxChunkExtensions 0 refuses any extension',
    body: '5;a\r\nhello\r\n0\r\n\r\n',
    limits: { maxChunkExtensions: 0 },
    error: [413, 'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE'],
  },
  {
    name: 'a chunk over maxBodySize is refused at its size line (413)',
    body: 'b\r\nhello world\r\n0\r\n\r\n',
    limits: { maxBodySize: 10 },
    error: [413, 'ROCKET_ERR_BODY_TOO_LARGE'],
  },
  {
    name: 'chunks summing over maxBodySize are refused at the size line of the chunk that crosses it (413)',
    body: '5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n',
    limits: { maxBodySize: 10 },
    error: [413, 'ROCKET_ERR_BODY_TOO_LARGE'],
  },
];

function limitsOf(v: Vector): ChunkedLimits {
  return { ...CHUNKED_LIMITS, ...v.limits };
}

function expectedOutcome(v: Vector, input: Buffer): ChunkedOutcome {
  if ('data' in v) {
    return { kind: 'body', data: v.data, trailers: v.trailers ?? null, consumed: v.body.length, done: true };
  }
  if ('error' in v) return { kind: 'error', status: v.error[0], code: v.error[1] };
  return { kind: 'body', data: v.incomplete, trailers: v.trailers ?? null, consumed: input.length, done: false };
}

/** Decode whole, split at every offset and byte by byte: all the same outcome. */
function checkDeliveries(v: Vector): void {
  // A complete body is followed by the next request, which must stay unconsumed.
  const input = bytes('data' in v ? v.body + NEXT : v.body);
  const limits = limitsOf(v);
  const expected = expectedOutcome(v, input);
  expect(decodeChunked(input, [], limits), 'whole').toEqual(expected);
  for (let k = 1; k < input.length; k++) {
    expect(decodeChunked(input, [k], limits), `split at ${k}`).toEqual(expected);
  }
  const every = Array.from({ length: input.length }, (_, i) => i);
  expect(decodeChunked(input, every, limits), 'byte by byte').toEqual(expected);
}

describe('valid chunked bodies', () => {
  test.each(VALID)('$name', (v) => checkDeliveries(v));
});

describe('invalid chunked bodies', () => {
  test.each(INVALID)('$name', (v) => checkDeliveries(v));
});

describe('ChunkedDecoder API', () => {
  function collect(decoder: ChunkedDecoder, buf: Buffer, start = 0, end = buf.length) {
    const parts: Buffer[] = [];
    let error: unknown = null;
    let used = -1;
    try {
      used = decoder.decode(buf, start, end, { onBodyData: (b) => parts.push(b) });
    } catch (e) {
      error = e;
    }
    return { parts, error, used };
  }

  test('stops exactly at the end of the body; the bytes after it are untouched (RFC 9112 §7.1)', () => {
    const body = '5\r\nhello\r\n0\r\nX: y\r\n\r\n';
    const buf = bytes(body + NEXT);
    const copy = Buffer.from(buf);
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    const { used, parts } = collect(decoder, buf);
    expect(used).toBe(body.length);
    expect(decoder.done).toBe(true);
    expect(decoder.received).toBe(5);
    expect(decoder.trailers).toEqual(['X', 'y']);
    expect(Buffer.concat(parts).toString()).toBe('hello');
    expect(buf.equals(copy)).toBe(true);
    // Once done, nothing more is consumed.
    expect(decoder.decode(buf, used, buf.length, { onBodyData: () => expect.unreachable() })).toBe(0);
  });

  test('no trailers leaves `trailers` null', () => {
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    collect(decoder, bytes('0\r\n\r\n'));
    expect(decoder.done).toBe(true);
    expect(decoder.trailers).toBeNull();
  });

  test('decoding an empty range consumes nothing', () => {
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    expect(decoder.decode(bytes('5\r\n'), 1, 1, { onBodyData: () => expect.unreachable() })).toBe(0);
    expect(decoder.done).toBe(false);
  });

  test('chunk data is delivered as views into the input buffer (zero-copy)', () => {
    const head = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    const buf = bytes(head + body);
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    const { parts, used } = collect(decoder, buf, head.length);
    expect(used).toBe(body.length);
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.buffer).toBe(buf.buffer);
    expect(parts[0]!.byteOffset).toBe(buf.byteOffset + head.length + 3);
    expect(parts[1]!.byteOffset).toBe(buf.byteOffset + head.length + 13);
    // A view, not a copy: writing through the input shows in the delivered chunk.
    buf[head.length + 3] = 0x48;
    expect(parts[0]!.toString()).toBe('Hello');
  });

  test('a chunk split across reads is delivered in pieces, each a view of its own read', () => {
    const first = bytes('a\r\n01234');
    const second = bytes('56789\r\n0\r\n\r\n');
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    const a = collect(decoder, first);
    const b = collect(decoder, second);
    expect(a.parts.map(String)).toEqual(['01234']);
    expect(b.parts.map(String)).toEqual(['56789']);
    expect(a.parts[0]!.buffer).toBe(first.buffer);
    expect(b.parts[0]!.buffer).toBe(second.buffer);
    expect(decoder.done).toBe(true);
  });

  test('413 for a chunk over maxBodySize comes before any of its data is delivered', () => {
    const decoder = new ChunkedDecoder({ ...CHUNKED_LIMITS, maxBodySize: 10 });
    const { parts, error } = collect(decoder, bytes('5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n'));
    expect(parts.map(String)).toEqual(['hello']);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 413, code: 'ROCKET_ERR_BODY_TOO_LARGE' });
    expect((error as Error).message).toBe('request body larger than 10 bytes');
  });

  test('413 for an oversize first chunk delivers nothing, even when its data has arrived', () => {
    const decoder = new ChunkedDecoder({ ...CHUNKED_LIMITS, maxBodySize: 10 });
    const { parts, error } = collect(decoder, bytes('b\r\nhello world\r\n0\r\n\r\n'));
    expect(parts).toEqual([]);
    expect(error).toMatchObject({ status: 413, code: 'ROCKET_ERR_BODY_TOO_LARGE' });
  });

  test('trailer errors name the trailer in the message', () => {
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    const { error } = collect(decoder, bytes('0\r\nX\r\n\r\n'));
    expect(error).toMatchObject({ status: 400, code: 'ROCKET_ERR_BAD_TRAILER' });
    expect((error as Error).message).toMatch(/^malformed trailer field: /);
  });

  test('a huge chunk is streamed: data is delivered as it arrives, without waiting for the whole chunk', () => {
    const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
    const head = collect(decoder, bytes('100000\r\n'));
    expect(head.parts).toEqual([]);
    const piece = Buffer.alloc(4096, 0x61);
    let total = 0;
    for (let i = 0; i < 256; i++) {
      const { parts, used } = collect(decoder, piece);
      expect(used).toBe(piece.length);
      for (const p of parts) total += p.length;
    }
    expect(total).toBe(0x100000);
    expect(decoder.received).toBe(0x100000);
    expect(decoder.done).toBe(false);
    expect(collect(decoder, bytes('\r\n0\r\n\r\n')).used).toBe(7);
    expect(decoder.done).toBe(true);
  });
});
