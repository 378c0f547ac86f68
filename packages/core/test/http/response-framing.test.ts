/**
 * A response's own fields and its framing (src/http/response-fields.ts, src/http/response-framing.ts):
 * what is checked, what is dropped or replaced, and which framing and persistence fields a head ends with.
 */

import { describe, expect, test } from 'vitest';
import { RocketError } from '../../src/errors.js';
import { checkResponseFields, fieldLines, parseResponseLength } from '../../src/http/response-fields.js';
import { chooseResponseFraming, framingFields, keepAliveHint, persistenceFields, ResponseFraming } from '../../src/http/response-framing.js';

describe('checkResponseFields', () => {
  test('serialises pairs in order, numbers as text, and notes Date, Server and Content-Length', () => {
    expect(checkResponseFields(200, [['Content-Type', 'text/plain'], ['Content-Length', 5], ['Date', 'x'], ['Server', 'me']], false, true)).toEqual({
      lines: 'Content-Type: text/plain\r\nContent-Length: 5\r\nDate: x\r\nServer: me\r\n',
      contentLength: 5,
      chunked: false,
      otherCoding: false,
      close: false,
      hasDate: true,
      hasServer: true,
    });
  });

  test('a flat list reads as name, value, name, value', () => {
    expect(checkResponseFields(200, ['X-A', '1', 'X-B', '2'], true, true).lines).toBe('X-A: 1\r\nX-B: 2\r\n');
  });

  test('Connection and Keep-Alive are the server\'s: dropped, a close option noted', () => {
    const facts = checkResponseFields(200, [['Connection', 'upgrade, close'], ['Keep-Alive', 'timeout=1'], ['X', 'y']], false, true);
    expect([facts.lines, facts.close]).toEqual(['X: y\r\n', true]);
    expect(checkResponseFields(200, [['Connection', 'closed']], false, true).close).toBe(false);
  });

  test('Transfer-Encoding: kept to HTTP/1.1, dropped to HTTP/1.0 and on a response without content', () => {
    expect(checkResponseFields(200, [['Transfer-Encoding', 'chunked']], false, true)).toMatchObject({ lines: 'Transfer-Encoding: chunked\r\n', chunked: true });
    expect(checkResponseFields(200, [['Transfer-Encoding', 'chunked']], false, false)).toMatchObject({ lines: '', chunked: true });
    expect(checkResponseFields(304, [['Transfer-Encoding', 'gzip']], false, true)).toMatchObject({ lines: '', otherCoding: true });
  });

  test('Content-Length on a 204 or 205 is noted but not sent; on a 304 it is sent', () => {
    expect(checkResponseFields(204, [['Content-Length', '3']], false, true)).toMatchObject({ lines: '', contentLength: 3 });
    expect(checkResponseFields(304, [['Content-Length', '3']], false, true)).toMatchObject({ lines: 'Content-Length: 3\r\n', contentLength: 3 });
  });

  test('a repeated equal Content-Length is sent once', () => {
    expect(checkResponseFields(200, [['Content-Length', '3'], ['content-length', '3']], false, true).lines).toBe('Content-Length: 3\r\n');
  });

  test.each([
    ['not a list', 'x', /must be a list/],
    ['not a pair', [['A']], /#0 is not a \[name, value\] pair/],
    ['a name that is no token', [['Bad Name', 'v']], /invalid response header name "Bad Name"/],
    ['a value that would split the head', [['X', 'a\r\nSet-Cookie: b']], /invalid value for response header X/],
    ['a value that is no text', [['X', {}]], /invalid value for response header X/],
    ['a bad Content-Length', [['Content-Length', '-1']], /invalid Content-Length "-1"/],
    ['two different Content-Lengths', [['Content-Length', '1'], ['Content-Length', '2']], /several different Content-Length/],
    ['Content-Length with Transfer-Encoding', [['Content-Length', '1'], ['Transfer-Encoding', 'chunked']], /both Content-Length and Transfer-Encoding/],
  ])('refuses %s', (_what, headers, message) => {
    let error: unknown;
    try {
      checkResponseFields(200, headers as never, false, true);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RocketError);
    expect(error).toMatchObject({ code: 'ROCKET_ERR_START_RESPONSE', message: expect.stringMatching(message) });
  });
});

describe('fieldLines and parseResponseLength', () => {
  test('fieldLines joins checked pairs and names the kind of field it refuses', () => {
    expect(fieldLines(['Link', '</a.css>; rel=preload', 'X', '1'], 'interim response header')).toBe('Link: </a.css>; rel=preload\r\nX: 1\r\n');
    expect(() => fieldLines(['Bad:', 'v'], 'trailer')).toThrow(/invalid trailer name "Bad:"/);
    expect(() => fieldLines(['X', 'a\nb'], 'trailer')).toThrow(/invalid value for trailer X/);
  });

  test('parseResponseLength: digits only, at most 15', () => {
    expect([parseResponseLength('0'), parseResponseLength('123'), parseResponseLength('999999999999999')]).toEqual([0, 123, 999999999999999]);
    for (const bad of ['', ' 1', '1 ', '+1', '1e3', '0x10', '1000000000000000']) expect(parseResponseLength(bad)).toBe(-1);
  });
});

describe('chooseResponseFraming and framingFields', () => {
  const none = { contentLength: -1 };
  test.each([
    // code, fields, total, http11 → framing, added fields (GET; HEAD below)
    [204, none, -1, true, ResponseFraming.None, ''],
    [304, { contentLength: 10 }, -1, true, ResponseFraming.None, ''],
    [205, none, -1, true, ResponseFraming.None, 'Content-Length: 0\r\n'],
    [200, { contentLength: 10 }, 3, true, ResponseFraming.Length, ''],
    [200, { contentLength: -1, chunked: true }, -1, true, ResponseFraming.Chunked, ''],
    [200, { contentLength: -1, chunked: true }, 5, false, ResponseFraming.Close, ''],
    [200, { contentLength: -1, otherCoding: true }, 5, true, ResponseFraming.Close, ''],
    [200, none, 5, true, ResponseFraming.Length, 'Content-Length: 5\r\n'],
    [200, none, 0, false, ResponseFraming.Length, 'Content-Length: 0\r\n'],
    [200, none, -1, true, ResponseFraming.Chunked, 'Transfer-Encoding: chunked\r\n'],
    [200, none, -1, false, ResponseFraming.Close, ''],
  ] as const)('%i %o, total %i, HTTP/1.1 %s → %i %j', (code, fields, total, http11, framing, added) => {
    expect(chooseResponseFraming(code, fields, total, http11)).toBe(framing);
    expect(framingFields(framing, code, fields, total, false)).toBe(added);
  });

  test('the answer to HEAD does not announce a chunked body it will not send', () => {
    expect(framingFields(ResponseFraming.Chunked, 200, { contentLength: -1 }, -1, true)).toBe('');
    expect(framingFields(ResponseFraming.Length, 200, { contentLength: -1 }, 0, true)).toBe('Content-Length: 0\r\n');
  });
});

describe('persistenceFields and keepAliveHint', () => {
  test.each([
    // keepAlive, http11, minimal, hint → end of head
    [true, true, false, 'timeout=5', 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n'],
    [true, true, false, '', 'Connection: keep-alive\r\n\r\n'],
    [false, true, false, 'timeout=5', 'Connection: close\r\n\r\n'],
    [true, false, false, 'timeout=5', 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n'],
    [true, true, true, 'timeout=5', '\r\n'],
    [false, true, true, 'timeout=5', 'Connection: close\r\n\r\n'],
    [true, false, true, 'timeout=5', 'Connection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n\r\n'],
    [true, false, true, '', 'Connection: Keep-Alive\r\n\r\n'],
    [false, false, true, 'timeout=5', '\r\n'],
  ] as const)('keep-alive %s, HTTP/1.1 %s, minimal %s, hint %j', (keepAlive, http11, minimal, hint, expected) => {
    expect(persistenceFields(keepAlive, http11, minimal, hint)).toBe(expected);
  });

  test('keepAliveHint: whole seconds rounded down, max with a request limit, nothing without a timeout', () => {
    expect([keepAliveHint(5, 0), keepAliveHint(1.5, 0), keepAliveHint(0.5, 0), keepAliveHint(0, 0), keepAliveHint(0, 3), keepAliveHint(61, 100)]).toEqual([
      'timeout=5',
      'timeout=1',
      'timeout=0',
      '',
      '',
      'timeout=61, max=100',
    ]);
  });
});
