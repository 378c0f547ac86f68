/**
 * Response heads (src/http/response-head.ts): WSGI status strings and the server's own error
 * responses. RFC 9112 §4 (status-line), RFC 9110 §15 (status codes), CWE-113 (response splitting).
 */

import { describe, expect, test } from 'vitest';
import {
  errorResponse,
  isBodilessStatus,
  isValidHeaderName,
  isValidHeaderValue,
  parseStatus,
} from '../../src/http/response-head.js';

describe('parseStatus (RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ])', () => {
  test.each([
    ['200 OK', 200, 'HTTP/1.1 200 OK\r\n'],
    ['404 Not Found', 404, 'HTTP/1.1 404 Not Found\r\n'],
    ['599 Whatever', 599, 'HTTP/1.1 599 Whatever\r\n'],
    ['100 Continue', 100, 'HTTP/1.1 100 Continue\r\n'],
    ['200 Fine\tand dandy', 200, 'HTTP/1.1 200 Fine\tand dandy\r\n'],
    ['200 caf\xe9 \x80\xff', 200, 'HTTP/1.1 200 caf\xe9 \x80\xff\r\n'],
    ['200 ', 200, 'HTTP/1.1 200 OK\r\n'],
    ['200', 200, 'HTTP/1.1 200 OK\r\n'],
    ['418', 418, "HTTP/1.1 418 I'm a Teapot\r\n"],
    ['299', 299, 'HTTP/1.1 299 Unknown\r\n'],
    ['299 ', 299, 'HTTP/1.1 299 Unknown\r\n'],
    // node:http sends any code up to 999; so do we, the reason phrase as given.
    ['600 x', 600, 'HTTP/1.1 600 x\r\n'],
    ['700 unknown', 700, 'HTTP/1.1 700 unknown\r\n'],
    ['999', 999, 'HTTP/1.1 999 Unknown\r\n'],
    ['700 ', 700, 'HTTP/1.1 700 Unknown\r\n'],
  ])('%j → %d, %j', (status, code, line) => {
    expect(parseStatus(status)).toEqual({ code, line });
  });

  test('a valid status parses the same twice (cached)', () => {
    expect(parseStatus('201 Created')).toEqual(parseStatus('201 Created'));
  });

  test.each([
    ['empty', ''],
    ['two digits', '20'],
    ['"99 x" (below 100)', '99 x'],
    ['"099 x" (below 100)', '099 x'],
    ['"1000 x" (four digits)', '1000 x'],
    ['"7000"', '7000'],
    ['letters', 'abc'],
    ['"OK 200"', 'OK 200'],
    ['a sign', '+20 x'],
    ['four digits', '2000 OK'],
    ['no SP before the reason', '200OK'],
    ['HTAB instead of SP', '200\tOK'],
    ['CR in the reason (CWE-113)', '200 OK\r'],
    ['LF in the reason (CWE-113)', '200 OK\nSet-Cookie: x=y'],
    ['CRLF in the reason (CWE-113)', '200 OK\r\nSet-Cookie: x=y'],
    ['NUL in the reason', '200 O\x00K'],
    ['another control character in the reason', '200 O\x01K'],
    ['DEL in the reason', '200 O\x7fK'],
    ['a char beyond latin1 in the reason', '200 \u2603'],
    ['leading SP', ' 200 OK'],
  ])('%s → null', (_what, status) => {
    expect(parseStatus(status)).toBeNull();
  });

  test('a non-string is refused', () => {
    expect(parseStatus(200 as unknown as string)).toBeNull();
    expect(parseStatus(null as unknown as string)).toBeNull();
  });
});

describe('header name and value checks (RFC 9110 §5.1, §5.5)', () => {
  test.each(['X-Thing', 'a', "!#$%&'*+-.^_`|~09"])('name %j is valid', (n) => expect(isValidHeaderName(n)).toBe(true));
  test.each(['', 'X Thing', 'X:', 'X\r', 'X\n', 'é', '(x)'])('name %j is invalid', (n) =>
    expect(isValidHeaderName(n)).toBe(false),
  );
  test.each(['', 'a b', 'a\tb', 'caf\xe9', '\x80\xff'])('value %j is valid', (v) => expect(isValidHeaderValue(v)).toBe(true));
  test.each(['a\rb', 'a\nb', 'a\r\nX: y', 'a\x00', 'a\x7f', 'a\x1f', '\u0100'])('value %j is invalid', (v) =>
    expect(isValidHeaderValue(v)).toBe(false),
  );
});

describe('isBodilessStatus (RFC 9110 §6.4.1)', () => {
  test.each([
    [100, true],
    [101, true],
    [199, true],
    [200, false],
    [204, true],
    [205, true],
    [304, true],
    [404, false],
  ])('%d → %s', (code, bodiless) => expect(isBodilessStatus(code)).toBe(bodiless));
});

describe('errorResponse', () => {
  const DATE = 'Sat, 21 Nov 2026 07:00:00 GMT';

  function split(response: string): { head: string; body: string; lines: string[] } {
    const end = response.indexOf('\r\n\r\n');
    expect(end).toBeGreaterThan(0);
    const head = response.slice(0, end + 4);
    return { head, body: response.slice(end + 4), lines: head.slice(0, -4).split('\r\n') };
  }

  test('exact bytes with a detail and a Server header', () => {
    expect(errorResponse(431, 'header section larger than 16384 bytes', DATE, 'Rocket/0.1.0')).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large\r\n' +
        `Date: ${DATE}\r\n` +
        'Server: Rocket/0.1.0\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 76\r\n' +
        'Connection: close\r\n' +
        '\r\n' +
        '431 Request Header Fields Too Large: header section larger than 16384 bytes\n',
    );
  });

  test('exact bytes without a detail and without a Server header', () => {
    expect(errorResponse(400, undefined, DATE, null)).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        `Date: ${DATE}\r\n` +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 16\r\n' +
        'Connection: close\r\n' +
        '\r\n' +
        '400 Bad Request\n',
    );
  });

  test('extra headers go before Connection: close', () => {
    const response = errorResponse(503, 'busy', DATE, null, 'Retry-After: 1\r\n');
    expect(split(response).lines).toEqual([
      'HTTP/1.1 503 Service Unavailable',
      `Date: ${DATE}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Length: 30',
      'Retry-After: 1',
      'Connection: close',
    ]);
    expect(split(response).body).toBe('503 Service Unavailable: busy\n');
  });

  test('a code without a registered reason phrase gets "Error"', () => {
    const { lines, body } = split(errorResponse(499, undefined, DATE, null));
    expect(lines[0]).toBe('HTTP/1.1 499 Error');
    expect(body).toBe('499 Error\n');
  });

  test.each([400, 408, 413, 414, 417, 431, 500, 501, 503, 505])(
    '%d: CRLF line endings only, Content-Length is the exact body length, Connection: close',
    (code) => {
      const response = errorResponse(code, 'why it failed', DATE, 'Rocket/0.1.0');
      const { head, body, lines } = split(response);
      // No bare CR or LF anywhere in the head.
      expect(head.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(lines[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${code} [A-Za-z' -]+$`));
      const length = lines.find((l) => l.startsWith('Content-Length: '));
      expect(Number(length!.slice('Content-Length: '.length))).toBe(Buffer.byteLength(body));
      expect(lines.filter((l) => l.toLowerCase().startsWith('connection:'))).toEqual(['Connection: close']);
      expect(lines.filter((l) => l.toLowerCase().startsWith('content-length:'))).toHaveLength(1);
      expect(lines).not.toContainEqual(expect.stringMatching(/^Transfer-Encoding/i));
    },
  );

  test('Content-Length counts UTF-8 bytes, matching charset=utf-8', () => {
    const { lines, body } = split(errorResponse(400, 'caf\u00e9 \u2603', DATE, null));
    expect(lines).toContain(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
    expect(Buffer.byteLength(body, 'utf8')).toBe(body.length + 3);
  });
});
