/**
 * Message framing and persistence (src/http/framing.ts): Content-Length, Transfer-Encoding and
 * Connection of a parsed head (RFC 9112 §6, §7, §9.3), and the request-smuggling checklist of
 * server-anchors.md §4.3 run through head parser, framing and chunked decoder together.
 */

import { describe, expect, test } from 'vitest';
import { HttpError } from '../../src/errors.js';
import {
  CHUNKED_BODY,
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  CONNECTION_UPGRADE,
  NO_BODY,
  connectionOptions,
  requestBodyFraming,
  requestWantsKeepAlive,
  trimOWS,
} from '../../src/http/framing.js';
import { parseContentLength } from '../../src/http/content-length.js';
import { HeadScan, parseRequestHead, type RequestHead } from '../../src/http/request-head.js';
import { CHUNKED_LIMITS, LIMITS, bytes, decodeChunked, errorOutcome } from './feed.js';

const MB = 1 << 20;

/** Parse a complete head; the test fails if it is not one. */
function parseHead(raw: string): RequestHead {
  const buf = bytes(raw);
  const head = parseRequestHead(buf, 0, buf.length, LIMITS, new HeadScan());
  if (head === null) throw new Error(`not a complete head: ${JSON.stringify(raw)}`);
  return head;
}

/** A POST head with the given field lines (each ending in CRLF) after `Host: a`. */
function post(fields: string, version = '1.1'): RequestHead {
  return parseHead(`POST / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`);
}

function thrown(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
  throw new Error('expected an HttpError, nothing was thrown');
}

describe('parseContentLength (RFC 9110 §8.6: Content-Length = 1*DIGIT)', () => {
  test.each([
    [['5'], 5],
    [['0'], 0],
    [['0005'], 5],
    [['5', '5'], 5],
    [['5', '5', '5'], 5],
    [['9007199254740991'], 9007199254740991],
  ])('%j → %d', (values, length) => {
    expect(parseContentLength(values)).toBe(length);
  });

  test.each([
    ['a sign', ['+5']],
    ['a minus sign', ['-1']],
    ['hex', ['0x5']],
    ['leading SP (untrimmed)', [' 5']],
    ['trailing SP (untrimmed)', ['5 ']],
    ['inner SP', ['5 5']],
    ['a list', ['1,1']],
    ['a list with OWS', ['1, 1']],
    ['nothing', ['']],
    ['an underscore', ['1_0']],
    ['a decimal point', ['1.0']],
    ['an exponent', ['1e3']],
    ['non-ASCII digits', ['\uff15']],
    ['different repeated values', ['1', '0']],
    ['different repeated values, same number of digits', ['5', '6']],
    ['one bad value among good ones', ['5', '5x']],
  ])('%s → 400', (_what, values) => {
    expect(thrown(() => parseContentLength(values))).toMatchObject({
      status: 400,
      code: 'ROCKET_ERR_BAD_CONTENT_LENGTH',
    });
  });

  test('a number too large to represent is Infinity (the caller answers 413)', () => {
    expect(parseContentLength(['9007199254740992'])).toBe(Infinity);
    expect(parseContentLength(['18446744073709551616'])).toBe(Infinity);
    expect(parseContentLength(['99999999999999999999'])).toBe(Infinity);
  });
});

describe('requestBodyFraming: Content-Length (RFC 9112 §6.3 rule 6)', () => {
  test('no Content-Length and no Transfer-Encoding: no body (RFC 9112 §6.3 rule 7)', () => {
    expect(requestBodyFraming(post(''), MB)).toBe(NO_BODY);
    expect(requestBodyFraming(post('', '1.0'), MB)).toBe(NO_BODY);
  });

  test('Content-Length: 0 is no body', () => {
    expect(requestBodyFraming(post('Content-Length: 0\r\n'), MB)).toBe(NO_BODY);
  });

  test('Content-Length: 5 is a 5-byte body', () => {
    expect(requestBodyFraming(post('Content-Length: 5\r\n'), MB)).toEqual({ kind: 'length', length: 5 });
  });

  test('OWS around the value is removed by the head parser, so " 5 " is 5 (RFC 9112 §5.1)', () => {
    const head = post('Content-Length:  \t5 \t\r\n');
    expect(head.contentLength).toEqual(['5']);
    expect(requestBodyFraming(head, MB)).toEqual({ kind: 'length', length: 5 });
  });

  test('repeated equal Content-Length lines are one length (RFC 9110 §8.6)', () => {
    expect(requestBodyFraming(post('Content-Length: 5\r\ncontent-length: 5\r\n'), MB)).toEqual({
      kind: 'length',
      length: 5,
    });
  });

  test.each([
    ['+5', 'Content-Length: +5\r\n'],
    ['-1', 'Content-Length: -1\r\n'],
    ['0x5', 'Content-Length: 0x5\r\n'],
    ['5 5', 'Content-Length: 5 5\r\n'],
    ['1,1', 'Content-Length: 1,1\r\n'],
    ['1, 1', 'Content-Length: 1, 1\r\n'],
    ['empty', 'Content-Length:\r\n'],
    ['only OWS', 'Content-Length:  \r\n'],
    ['1_0', 'Content-Length: 1_0\r\n'],
    ['two different lines 1 and 0', 'Content-Length: 1\r\nContent-Length: 0\r\n'],
    ['two different lines 5 and 6', 'Content-Length: 5\r\nContent-Length: 6\r\n'],
  ])('Content-Length %s → 400 (RFC 9110 §8.6, RFC 9112 §6.3 rule 5)', (_what, fields) => {
    expect(thrown(() => requestBodyFraming(post(fields), MB))).toMatchObject({
      status: 400,
      code: 'ROCKET_ERR_BAD_CONTENT_LENGTH',
    });
  });

  test('equal values with different spellings ("5" and "05") are the same length (RFC 9110 §8.6)', () => {
    expect(requestBodyFraming(post('Content-Length: 5\r\nContent-Length: 05\r\n'), MB)).toEqual({
      kind: 'length',
      length: 5,
    });
  });

  test('a length over maxBodySize is 413 before a byte of the body is read (RFC 9110 §15.5.14)', () => {
    expect(thrown(() => requestBodyFraming(post('Content-Length: 6\r\n'), 5))).toMatchObject({
      status: 413,
      code: 'ROCKET_ERR_BODY_TOO_LARGE',
    });
    expect(requestBodyFraming(post('Content-Length: 5\r\n'), 5)).toEqual({ kind: 'length', length: 5 });
  });

  test('maxBodySize 0 means no limit', () => {
    expect(requestBodyFraming(post('Content-Length: 9007199254740991\r\n'), 0)).toEqual({
      kind: 'length',
      length: 9007199254740991,
    });
  });

  test('an overflowing Content-Length (20 digits, 2^64) is 413 when maxBodySize is set', () => {
    for (const value of ['99999999999999999999', '18446744073709551616']) {
      expect(thrown(() => requestBodyFraming(post(`Content-Length: ${value}\r\n`), MB))).toMatchObject({
        status: 413,
        code: 'ROCKET_ERR_BODY_TOO_LARGE',
      });
    }
  });

  test('an overflowing Content-Length is refused even with maxBodySize 0 (parseContentLength: "the caller answers 413")', () => {
    // A length that cannot be represented must not become a body that never ends.
    const outcome = (() => {
      try {
        return requestBodyFraming(post('Content-Length: 18446744073709551616\r\n'), 0);
      } catch (error) {
        return errorOutcome(error);
      }
    })();
    expect(outcome).toEqual({ kind: 'error', status: 413, code: 'ROCKET_ERR_BODY_TOO_LARGE' });
  });
});

describe('requestBodyFraming: Transfer-Encoding (RFC 9112 §6.1, §6.3 rules 3-4)', () => {
  test.each([
    ['chunked', 'Transfer-Encoding: chunked\r\n'],
    ['Chunked (codings are case-insensitive, RFC 9112 §7)', 'Transfer-Encoding: Chunked\r\n'],
    ['CHUNKED', 'Transfer-Encoding: CHUNKED\r\n'],
    ['chunked after HTAB OWS', 'Transfer-Encoding:\tchunked\t\r\n'],
  ])('%s → chunked', (_what, fields) => {
    expect(requestBodyFraming(post(fields), MB)).toBe(CHUNKED_BODY);
  });

  test('maxBodySize does not refuse a chunked body up front (it is checked while decoding)', () => {
    expect(requestBodyFraming(post('Transfer-Encoding: chunked\r\n'), 1)).toBe(CHUNKED_BODY);
  });

  test.each([
    ['gzip, chunked', 'Transfer-Encoding: gzip, chunked\r\n'],
    ['deflate, chunked', 'Transfer-Encoding: deflate, chunked\r\n'],
    ['gzip then chunked on two lines', 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n'],
    ['identity, chunked', 'Transfer-Encoding: identity, chunked\r\n'],
    ['an unknown coding, then chunked', 'Transfer-Encoding: foo, chunked\r\n'],
    ['gzip with a parameter, then chunked', 'Transfer-Encoding: gzip;q=1, chunked\r\n'],
    ['two codings, then chunked', 'Transfer-Encoding: gzip, deflate, chunked\r\n'],
  ])('%s → 501 (RFC 9112 §6.1: a coding we do not decode, before a final chunked)', (_what, fields) => {
    expect(thrown(() => requestBodyFraming(post(fields), MB))).toMatchObject({
      status: 501,
      code: 'ROCKET_ERR_UNSUPPORTED_TRANSFER_CODING',
    });
  });

  test.each([
    ['chunked, gzip (chunked not final)', 'Transfer-Encoding: chunked, gzip\r\n'],
    ['gzip (chunked absent)', 'Transfer-Encoding: gzip\r\n'],
    ['identity (no longer a transfer coding, RFC 9112 §7; chunked absent)', 'Transfer-Encoding: identity\r\n'],
    ['xchunked (chunked absent)', 'Transfer-Encoding: xchunked\r\n'],
    ['chunkedchunked (chunked absent)', 'Transfer-Encoding: chunkedchunked\r\n'],
    ['an unknown coding alone', 'Transfer-Encoding: foo\r\n'],
    ['chunked, then an unknown coding', 'Transfer-Encoding: chunked, foo\r\n'],
    ['an unknown coding, chunked, gzip', 'Transfer-Encoding: foo, chunked, gzip\r\n'],
    ['gzip, chunked, chunked (applied twice)', 'Transfer-Encoding: gzip, chunked, chunked\r\n'],
    ['chunked, chunked (applied twice)', 'Transfer-Encoding: chunked, chunked\r\n'],
    ['chunked on two lines', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'],
    ['chunked then an unknown coding on a second line', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n'],
    ['chunked, identity', 'Transfer-Encoding: chunked, identity\r\n'],
    [',chunked (empty element)', 'Transfer-Encoding: ,chunked\r\n'],
    ['chunked, (empty element)', 'Transfer-Encoding: chunked,\r\n'],
    ['gzip,,chunked (empty element)', 'Transfer-Encoding: gzip,,chunked\r\n'],
    ['empty value', 'Transfer-Encoding:\r\n'],
    ['a quoted coding', 'Transfer-Encoding: "chunked"\r\n'],
    ['parameters on chunked', 'Transfer-Encoding: chunked;q=1\r\n'],
    ['a coding with a space inside', 'Transfer-Encoding: chun ked\r\n'],
  ])('%s → 400 (RFC 9112 §6.3 rule 4)', (_what, fields) => {
    expect(thrown(() => requestBodyFraming(post(fields), MB))).toMatchObject({
      status: 400,
      code: 'ROCKET_ERR_BAD_TRANSFER_ENCODING',
    });
  });

  test('Transfer-Encoding with Content-Length → 400, in either order (RFC 9112 §6.3 rule 3, §6.1)', () => {
    for (const fields of [
      'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
      'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n',
      'Transfer-Encoding: gzip, chunked\r\nContent-Length: 0\r\n',
    ]) {
      expect(thrown(() => requestBodyFraming(post(fields), MB))).toMatchObject({
        status: 400,
        code: 'ROCKET_ERR_TE_WITH_CONTENT_LENGTH',
      });
    }
  });

  test('Transfer-Encoding in HTTP/1.0 → 400 (RFC 9112 §6.1: framing is faulty)', () => {
    expect(thrown(() => requestBodyFraming(post('Transfer-Encoding: chunked\r\n', '1.0'), MB))).toMatchObject({
      status: 400,
      code: 'ROCKET_ERR_BAD_TRANSFER_ENCODING',
    });
  });

  test('error messages do not echo client bytes (errors.ts: "it never echoes client bytes")', () => {
    const { message } = thrown(() => requestBodyFraming(post('Transfer-Encoding: xyzzy, chunked\r\n'), MB));
    expect(message).not.toContain('xyzzy');
  });
});

describe('connectionOptions (RFC 9110 §7.6.1: Connection = #connection-option)', () => {
  test.each([
    [null, 0],
    [[], 0],
    [['close'], CONNECTION_CLOSE],
    [['Close'], CONNECTION_CLOSE],
    [['Keep-Alive'], CONNECTION_KEEP_ALIVE],
    [['keep-alive'], CONNECTION_KEEP_ALIVE],
    [['upgrade'], CONNECTION_UPGRADE],
    [['close, upgrade'], CONNECTION_CLOSE | CONNECTION_UPGRADE],
    [['Upgrade, Close'], CONNECTION_CLOSE | CONNECTION_UPGRADE],
    [['keep-alive', 'close'], CONNECTION_CLOSE | CONNECTION_KEEP_ALIVE],
    [['TE, Keep-Alive, Upgrade'], CONNECTION_KEEP_ALIVE | CONNECTION_UPGRADE],
    [[' , ,\tclose\t,'], CONNECTION_CLOSE],
    [['closed'], 0],
    [['x-close'], 0],
    [['"close"'], 0],
    [['keep alive'], 0],
  ] as const)('%j → %d', (values, bits) => {
    expect(connectionOptions(values as readonly string[] | null)).toBe(bits);
  });
});

describe('requestWantsKeepAlive (RFC 9112 §9.3)', () => {
  test.each([
    [11, 0, true],
    [11, CONNECTION_KEEP_ALIVE, true],
    [11, CONNECTION_UPGRADE, true],
    [11, CONNECTION_CLOSE, false],
    [11, CONNECTION_CLOSE | CONNECTION_KEEP_ALIVE, false],
    [10, 0, false],
    [10, CONNECTION_KEEP_ALIVE, true],
    [10, CONNECTION_CLOSE | CONNECTION_KEEP_ALIVE, false],
    [10, CONNECTION_UPGRADE, false],
  ])('HTTP/1.%# version %d options %d → %s', (version, options, keep) => {
    expect(requestWantsKeepAlive(version, options)).toBe(keep);
  });

  test.each([
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', true],
    ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, Close\r\n\r\n', false],
    ['GET / HTTP/1.0\r\n\r\n', false],
    ['GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', true],
    ['GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n', false],
  ])('parsed %j → keep-alive %s', (raw, keep) => {
    const head = parseHead(raw);
    expect(requestWantsKeepAlive(head.version, connectionOptions(head.connection))).toBe(keep);
  });
});

describe('trimOWS', () => {
  test('removes SP and HTAB at both ends only', () => {
    expect(trimOWS(' \ta b\t ')).toBe('a b');
    expect(trimOWS('')).toBe('');
    expect(trimOWS(' \t ')).toBe('');
    expect(trimOWS('\x0ba\x0b')).toBe('\x0ba\x0b');
  });

  test('returns the same string when there is nothing to trim', () => {
    const s = 'chunked';
    expect(trimOWS(s)).toBe(s);
  });
});

// ---- the smuggling checklist of server-anchors.md §4.3 ----

type Pipeline =
  | { kind: 'error'; status: number; code?: string }
  | {
      kind: 'ok';
      framing: 'none' | 'length' | 'chunked';
      body: string;
      trailers?: string[] | null;
      /** What is left in the buffer after this request: the next request's bytes. */
      rest: string;
    }
  | { kind: 'incomplete' };

/**
 * One request through head parser, framing and body: what the server would see. A chunked body
 * is decoded whole and at every split offset, which must agree.
 */
function pipeline(raw: string, maxBodySize = MB): Pipeline {
  const buf = bytes(raw);
  let head: RequestHead | null;
  let framing;
  try {
    head = parseRequestHead(buf, 0, buf.length, LIMITS, new HeadScan());
    if (head === null) return { kind: 'incomplete' };
    framing = requestBodyFraming(head, maxBodySize);
  } catch (error) {
    return errorOutcome(error);
  }
  const start = head.size;
  if (framing.kind === 'none') return { kind: 'ok', framing: 'none', body: '', rest: raw.slice(start) };
  if (framing.kind === 'length') {
    if (buf.length - start < framing.length) return { kind: 'incomplete' };
    return {
      kind: 'ok',
      framing: 'length',
      body: raw.slice(start, start + framing.length),
      rest: raw.slice(start + framing.length),
    };
  }
  const limits = { ...CHUNKED_LIMITS, maxBodySize };
  const outcome = decodeChunked(buf, [], limits, start);
  // Every split offset for short bodies; about 64 evenly spread ones for the long ones.
  const step = buf.length - start < 2000 ? 1 : Math.ceil((buf.length - start) / 64);
  for (let k = start + 1; k < buf.length; k += step) {
    expect(decodeChunked(buf, [k], limits, start), `chunked body split at ${k}`).toEqual(outcome);
  }
  if (outcome.kind === 'error') return outcome;
  if (!outcome.done) return { kind: 'incomplete' };
  return {
    kind: 'ok',
    framing: 'chunked',
    body: outcome.data,
    trailers: outcome.trailers,
    rest: raw.slice(start + outcome.consumed),
  };
}

const NEXT = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';
const CHUNKED = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n';

interface Smuggle {
  class: string;
  name: string;
  raw: string;
  maxBodySize?: number;
  outcome: Pipeline;
}

const e400 = (code?: string): Pipeline => (code ? { kind: 'error', status: 400, code } : { kind: 'error', status: 400 });

const CHECKLIST: Smuggle[] = [
  // CL.TE / TE.CL
  {
    class: 'CL.TE',
    name: 'Content-Length then Transfer-Encoding',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`,
    outcome: e400('ROCKET_ERR_TE_WITH_CONTENT_LENGTH'),
  },
  {
    class: 'TE.CL',
    name: 'Transfer-Encoding then Content-Length',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_TE_WITH_CONTENT_LENGTH'),
  },
  {
    class: 'TE.CL',
    name: 'Transfer-Encoding in HTTP/1.0 with Content-Length',
    raw: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello`,
    outcome: e400('ROCKET_ERR_TE_WITH_CONTENT_LENGTH'),
  },
  // TE.TE obfuscation
  {
    class: 'TE.TE',
    name: '"Transfer-Encoding : chunked" (space before colon)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_HEADER'),
  },
  {
    class: 'TE.TE',
    name: '"Transfer-Encoding:\\tchunked" (HTAB is OWS: valid)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${NEXT}`,
    outcome: { kind: 'ok', framing: 'chunked', body: 'abc', trailers: null, rest: NEXT },
  },
  {
    class: 'TE.TE',
    name: '"Transfer-Encoding: \\x0bchunked" (VT is no OWS)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_HEADER'),
  },
  {
    class: 'TE.TE',
    name: '"chunked, identity" (chunked not final)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_TRANSFER_ENCODING'),
  },
  {
    class: 'TE.TE',
    name: '"identity, chunked" (unknown coding)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`,
    outcome: { kind: 'error', status: 501, code: 'ROCKET_ERR_UNSUPPORTED_TRANSFER_CODING' },
  },
  {
    class: 'TE.TE',
    name: '",chunked" (empty list element, refused by design)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_TRANSFER_ENCODING'),
  },
  {
    class: 'TE.TE',
    name: '"xchunked"',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
    outcome: { kind: 'error', status: 400, code: 'ROCKET_ERR_BAD_TRANSFER_ENCODING' },
  },
  {
    class: 'TE.TE',
    name: '"chunkedchunked"',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedchunked\r\n\r\n0\r\n\r\n`,
    outcome: { kind: 'error', status: 400, code: 'ROCKET_ERR_BAD_TRANSFER_ENCODING' },
  },
  {
    class: 'TE.TE',
    name: 'duplicated Transfer-Encoding: chunked lines',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_TRANSFER_ENCODING'),
  },
  {
    class: 'TE.TE',
    name: '"TE: chunked" with Content-Length (TE is another field; Content-Length frames)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nTE: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${NEXT}`,
    outcome: { kind: 'ok', framing: 'length', body: '0\r\n\r\n', rest: NEXT },
  },
  // duplicate / malformed Content-Length
  {
    class: 'CL.CL',
    name: 'Content-Length: 1 and Content-Length: 0',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 0\r\n\r\nX`,
    outcome: e400('ROCKET_ERR_BAD_CONTENT_LENGTH'),
  },
  {
    class: 'CL.CL',
    name: '"Content-Length: 1, 1" (list form refused; RFC 9110 §8.6 allows rejecting)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nX`,
    outcome: e400('ROCKET_ERR_BAD_CONTENT_LENGTH'),
  },
  ...(['+5', '-1', '0x5', '', '1_0', '5 5'] as const).map(
    (v): Smuggle => ({
      class: 'CL',
      name: `"Content-Length: ${v}"`,
      raw: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${v}\r\n\r\nhello`,
      outcome: e400('ROCKET_ERR_BAD_CONTENT_LENGTH'),
    }),
  ),
  {
    class: 'CL',
    name: '"Content-Length: 5 " (trailing SP is OWS, removed: valid, RFC 9112 §5.1)',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 \r\n\r\nhello${NEXT}`,
    outcome: { kind: 'ok', framing: 'length', body: 'hello', rest: NEXT },
  },
  {
    class: 'CL',
    name: 'Content-Length overflowing 2^64 with maxBodySize set',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\nhello`,
    outcome: { kind: 'error', status: 413, code: 'ROCKET_ERR_BODY_TOO_LARGE' },
  },
  // obs-fold
  {
    class: 'obs-fold',
    name: '"X: a\\r\\n b"',
    raw: `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n`,
    outcome: e400('ROCKET_ERR_OBS_FOLD'),
  },
  {
    class: 'obs-fold',
    name: 'fold after Transfer-Encoding: chunked',
    raw: `${CHUNKED} , identity\r\n\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_OBS_FOLD'),
  },
  // bare LF / bare CR
  {
    class: 'bare LF',
    name: '"GET / HTTP/1.1\\nHost: a\\n\\n"',
    raw: 'GET / HTTP/1.1\nHost: a\n\n',
    outcome: e400('ROCKET_ERR_BARE_LF'),
  },
  {
    class: 'bare CR',
    name: '"Header: va\\rlue"',
    raw: 'GET / HTTP/1.1\r\nHost: a\r\nHeader: va\rlue\r\n\r\n',
    outcome: e400('ROCKET_ERR_BARE_CR'),
  },
  {
    class: 'bare CR',
    name: '"\\r\\n\\rX" after the header section',
    raw: 'GET / HTTP/1.1\r\nHost: a\r\n\rX: y\r\n\r\n',
    outcome: e400('ROCKET_ERR_BARE_CR'),
  },
  // NUL and controls
  {
    class: 'controls',
    name: '"X: a\\x00b"',
    raw: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_HEADER'),
  },
  ...(['\x01', '\x7f', '\x85', '\xa0'] as const).map(
    (c): Smuggle => ({
      class: 'controls',
      name: `field name with 0x${c.charCodeAt(0).toString(16)}`,
      raw: `GET / HTTP/1.1\r\nHost: a\r\nX${c}Y: 1\r\n\r\n`,
      outcome: e400('ROCKET_ERR_BAD_HEADER'),
    }),
  ),
  // whitespace around field name
  {
    class: 'field name whitespace',
    name: '"Content-Length : 5"',
    raw: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello',
    outcome: e400('ROCKET_ERR_BAD_HEADER'),
  },
  {
    class: 'field name whitespace',
    name: '"\\tContent-Length: 1" as the first field line',
    raw: 'POST / HTTP/1.1\r\n\tContent-Length: 1\r\nHost: a\r\n\r\nX',
    outcome: e400('ROCKET_ERR_OBS_FOLD'),
  },
  {
    class: 'field name whitespace',
    name: '"Transfer-Encoding\\x85: chunked"',
    raw: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\x85: chunked\r\n\r\n0\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_HEADER'),
  },
  // chunk size and extensions
  ...(['0x5', '+5', '-0'] as const).map(
    (size): Smuggle => ({
      class: 'chunk size',
      name: `chunk size "${size}"`,
      raw: `${CHUNKED}\r\n${size}\r\nhello\r\n0\r\n\r\n`,
      outcome: e400('ROCKET_ERR_BAD_CHUNK'),
    }),
  ),
  {
    class: 'chunk ext',
    name: '"5 ;x" (BWS before ";" is allowed: RFC 9112 §7.1.1 chunk-ext = *( BWS ";" ... ))',
    raw: `${CHUNKED}\r\n5 ;x\r\nhello\r\n0\r\n\r\n${NEXT}`,
    outcome: { kind: 'ok', framing: 'chunked', body: 'hello', trailers: null, rest: NEXT },
  },
  {
    class: 'chunk ext',
    name: '"5\\r\\r;x" (bare CR)',
    raw: `${CHUNKED}\r\n5\r\r;x\r\nhello\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BARE_CR'),
  },
  {
    class: 'chunk ext',
    name: '";" repeated 100000 times (malformed: no extension name)',
    raw: `${CHUNKED}\r\n5${';'.repeat(100_000)}\r\nhello\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_CHUNK'),
  },
  {
    class: 'chunk ext',
    name: 'an extension of 20000 bytes (CVE-2024-22019: capped at maxChunkExtensions)',
    raw: `${CHUNKED}\r\n5;${'a'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`,
    outcome: { kind: 'error', status: 413, code: 'ROCKET_ERR_CHUNK_EXTENSION_TOO_LARGE' },
  },
  {
    class: 'chunk ext',
    name: 'an unterminated quoted extension value running into CRLF',
    raw: `${CHUNKED}\r\n5;a="x\r\nhello\r\n0\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_CHUNK'),
  },
  {
    class: 'chunk line',
    name: 'LF-only chunk line "5\\nhello"',
    raw: `${CHUNKED}\r\n5\nhello\r\n0\r\n\r\n`,
    outcome: e400(),
  },
  {
    class: 'chunk data',
    name: '"1\\r\\nZ" not followed by CRLF',
    raw: `${CHUNKED}\r\n1\r\nZ${NEXT}`,
    outcome: e400('ROCKET_ERR_BAD_CHUNK'),
  },
  // trailers
  {
    class: 'trailers',
    name: '"0\\r\\nX: y\\r\\n\\r\\n" (parsed, not spliced into the next request)',
    raw: `${CHUNKED}\r\n0\r\nX: y\r\n\r\n${NEXT}`,
    outcome: { kind: 'ok', framing: 'chunked', body: '', trailers: ['X', 'y'], rest: NEXT },
  },
  {
    class: 'trailers',
    name: '"0\\r\\n\\r\\nXX" (XX is left for the next request)',
    raw: `${CHUNKED}\r\n0\r\n\r\nXX`,
    outcome: { kind: 'ok', framing: 'chunked', body: '', trailers: null, rest: 'XX' },
  },
  {
    class: 'trailers',
    name: 'a trailer that looks like a request line is refused',
    raw: `${CHUNKED}\r\n0\r\nGET /admin HTTP/1.1\r\n\r\n`,
    outcome: e400('ROCKET_ERR_BAD_TRAILER'),
  },
  // request line
  {
    class: 'request line',
    name: '"GET  / HTTP/1.1" (double SP)',
    raw: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_REQUEST_LINE'),
  },
  {
    class: 'request line',
    name: '"GET /\\nHTTP/1.1"',
    raw: 'GET /\nHTTP/1.1\r\nHost: a\r\n\r\n',
    outcome: e400('ROCKET_ERR_BARE_LF'),
  },
  {
    class: 'request line',
    name: '"HTTP/1.32"',
    raw: 'GET / HTTP/1.32\r\nHost: a\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_VERSION'),
  },
  {
    class: 'request line',
    name: '"HTTP/\\r\\r1.1"',
    raw: 'GET / HTTP/\r\r1.1\r\nHost: a\r\n\r\n',
    outcome: e400(),
  },
  {
    class: 'request line',
    name: 'HTTP/2.0 (unsupported version)',
    raw: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
    outcome: { kind: 'error', status: 505, code: 'ROCKET_ERR_VERSION_NOT_SUPPORTED' },
  },
  {
    class: 'request line',
    name: 'absolute-form (accepted)',
    raw: `GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n${NEXT}`,
    outcome: { kind: 'ok', framing: 'none', body: '', rest: NEXT },
  },
  {
    class: 'request line',
    name: '"*" with GET',
    raw: 'GET * HTTP/1.1\r\nHost: a\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_TARGET'),
  },
  {
    class: 'request line',
    name: 'invalid method characters',
    raw: 'G<T / HTTP/1.1\r\nHost: a\r\n\r\n',
    outcome: e400(),
  },
  // Host
  {
    class: 'Host',
    name: 'missing in HTTP/1.1',
    raw: 'GET / HTTP/1.1\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_HOST'),
  },
  {
    class: 'Host',
    name: 'duplicate',
    raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    outcome: e400('ROCKET_ERR_BAD_HOST'),
  },
  {
    class: 'Host',
    name: 'differs from the absolute-form authority: accepted, Host ignored (RFC 9112 §3.2.2)',
    raw: `GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n`,
    outcome: { kind: 'ok', framing: 'none', body: '', rest: '' },
  },
  // Expect
  {
    class: 'Expect',
    name: 'Expect: 100-continue with Content-Length frames by Content-Length',
    raw: `POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc${NEXT}`,
    outcome: { kind: 'ok', framing: 'length', body: 'abc', rest: NEXT },
  },
];

describe('request smuggling checklist (server-anchors.md §4.3)', () => {
  test.each(CHECKLIST)('$class: $name', (v) => {
    const outcome = pipeline(v.raw, v.maxBodySize ?? MB);
    if (v.outcome.kind === 'error' && v.outcome.code === undefined) {
      expect(outcome).toMatchObject({ kind: 'error', status: v.outcome.status });
    } else {
      expect(outcome).toEqual(v.outcome);
    }
  });

  test('pipelining after an error: the valid request is answered, the garbage after it is 400', () => {
    const raw = `GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\x16\x03\x01garbage\r\n\r\n`;
    const first = pipeline(raw);
    expect(first).toMatchObject({ kind: 'ok', framing: 'none' });
    const rest = (first as { rest: string }).rest;
    expect(rest).toBe('\x16\x03\x01garbage\r\n\r\n');
    // The garbage holds CRLFCRLF, so it is parsed as a complete head: its first byte is no method.
    const second = pipeline(rest);
    expect(second).toMatchObject({ kind: 'error', status: 400 });
    expect(['ROCKET_ERR_BAD_REQUEST_LINE', 'ROCKET_ERR_BAD_METHOD']).toContain((second as { code: string }).code);
  });

  test('Expect: 100-continue is visible on the head', () => {
    const head = post('Expect: 100-continue\r\nContent-Length: 3\r\n');
    expect(head.expect).toBe('100-continue');
  });
});
