/**
 * The pure parts of the static file app (src/apps/static-files.ts, src/apps/mime.ts; dates, ranges and entity-tags in src/http/): request paths, Range,
 * entity-tag lists, HTTP dates, content types, HTML escaping.
 */

import { describe, expect, test } from 'vitest';
import { contentTypeFor } from '../../src/apps/mime.js';
import { escapeHtml, parseRequestPath } from '../../src/apps/static-files.js';
import { parseHttpDate } from '../../src/http/dates.js';
import { matchesAnyTag } from '../../src/http/entity-tags.js';
import { parseRange } from '../../src/http/ranges.js';

describe('parseRequestPath', () => {
  test.each([
    ['/', [], true, '/'],
    ['/a.txt', ['a.txt'], false, '/a.txt'],
    ['/a/b/', ['a', 'b'], true, '/a/b/'],
    ['/a%20b/r%C3%A9sum%C3%A9.pdf', ['a b', 'résumé.pdf'], false, '/a b/résumé.pdf'],
    ['/a.txt?x=/../y', ['a.txt'], false, '/a.txt'],
    ['/%25252e', ['%252e'], false, '/%252e'],
    ['/.well-known/acme', ['.well-known', 'acme'], false, '/.well-known/acme'],
    ['/%EF%BB%BFbom', ['\ufeffbom'], false, '/\ufeffbom'],
    ['/a..b/c.', ['a..b', 'c.'], false, '/a..b/c.'],
  ])('%s → %j', (target, segments, trailingSlash, path) => {
    expect(parseRequestPath(target)).toEqual({ segments, trailingSlash, path });
  });

  test.each([
    // RFC 3986 §5.2.4 dot-segments, in every spelling.
    '/..', '/../a', '/a/..', '/.', '/./a', '/%2e%2e/a', '/%2E%2E/a', '/.%2e/a', '/%2e./a', '/a/%2e',
    // Separators that are not `/`.
    '/a%2fb', '/a%2Fb', '/a\\b', '/a%5cb', '/a%5Cb',
    // NUL and other control characters.
    '/a%00', '/a%00.txt', '/a%0a', '/a%0D%0A', '/a%7f', '/a%1f',
    // Malformed escapes.
    '/%', '/%2', '/%zz', '/%g0', '/a%',
    // Not UTF-8: overlong dots and slash, lone continuation bytes, surrogates, truncated sequences.
    '/%c0%ae%c0%ae', '/%c0%af', '/%e0%80%ae', '/%ff', '/%80', '/%ed%a0%80', '/%c3',
    // Empty segments.
    '//etc/passwd', '/a//b', '//', '/a//',
    // Dotfiles.
    '/.git/config', '/.env', '/a/.hidden', '/%2egit',
    // Not origin form.
    'http://h/../a', '*', 'a', '', 'h:80',
    // Characters a request-target cannot hold.
    '/a b', '/é',
  ])('%j is refused', (target) => {
    expect(parseRequestPath(target)).toBeNull();
  });

  test('absolute-form: the path after the authority', () => {
    expect(parseRequestPath('http://h/a/b?q')?.segments).toEqual(['a', 'b']);
    expect(parseRequestPath('https://h:8443')?.path).toBe('/');
  });

  test('a non-string target is refused', () => {
    expect(parseRequestPath(undefined)).toBeNull();
    expect(parseRequestPath(42)).toBeNull();
  });

  test('SCRIPT_NAME is matched segment by segment and removed', () => {
    expect(parseRequestPath('/static/a.txt', '/static')).toEqual({ segments: ['a.txt'], trailingSlash: false, path: '/static/a.txt' });
    expect(parseRequestPath('/st%61tic/a.txt', '/static')).toEqual({ segments: ['a.txt'], trailingSlash: false, path: '/static/a.txt' });
    expect(parseRequestPath('/static', '/static')).toEqual({ segments: [], trailingSlash: false, path: '/static' });
    expect(parseRequestPath('/static/', '/static')).toEqual({ segments: [], trailingSlash: true, path: '/static/' });
    expect(parseRequestPath('/a/b/c', '/a/b')).toEqual({ segments: ['c'], trailingSlash: false, path: '/a/b/c' });
    expect(parseRequestPath('/other/a.txt', '/static')).toBeNull();
    expect(parseRequestPath('/staticx/a.txt', '/static')).toBeNull();
    expect(parseRequestPath('/static/../a.txt', '/static')).toBeNull();
  });
});

describe('parseRange', () => {
  test.each([
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=0-9', 10, { start: 0, end: 9 }],
    ['bytes=2-', 10, { start: 2, end: 9 }],
    ['bytes=5-100', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['Bytes=1-2', 10, { start: 1, end: 2 }],
    ['bytes= 1-2 ', 10, { start: 1, end: 2 }],
    ['bytes=1-2,', 10, { start: 1, end: 2 }],
    ['bytes=0-99999999999999999999', 10, { start: 0, end: 9 }],
  ])('%s of %i bytes → %j', (field, size, range) => {
    expect(parseRange(field, size)).toEqual(range);
  });

  test.each([
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=99999999999999999999-', 10],
    ['bytes=-0', 10],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
  ])('%s of %i bytes is unsatisfiable', (field, size) => {
    expect(parseRange(field, size)).toBe('unsatisfiable');
  });

  test.each([
    'bytes=0-1,3-4', // several ranges: the whole file instead
    'bytes=0-1, -2',
    'bytes=5-2', // last-pos < first-pos (RFC 9110 §14.1.1)
    'items=0-1',
    'bytes',
    'bytes=',
    'bytes=-',
    'bytes=1-2-3',
    'bytes=a-1',
    'bytes=+1-2',
    'bytes=0x1-2',
    'bytes =0-1',
    'bytes=1.5-2',
  ])('%s is ignored', (field) => {
    expect(parseRange(field, 10)).toBeNull();
  });
});

describe('matchesAnyTag (If-None-Match, weak comparison)', () => {
  const etag = '"abc-12"';
  test.each([
    ['"abc-12"', true],
    ['W/"abc-12"', true],
    ['*', true],
    [' * ', true],
    ['"x", "abc-12"', true],
    ['"x","abc-12"', true],
    [',, "x" ,W/"abc-12",', true],
    ['"a,b", "abc-12"', true],
    ['"x"', false],
    ['"ABC-12"', false],
    ['abc-12', false],
    ['"abc-12', false],
    ['"x" "abc-12"', false],
    ['w/"abc-12"', false],
    ['', false],
  ])('%j → %s', (field, expected) => {
    expect(matchesAnyTag(field, etag)).toBe(expected);
  });
});

describe('parseHttpDate', () => {
  const when = Date.UTC(1994, 10, 6, 8, 49, 37);
  test.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', when], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', when], // RFC 850
    ['Sun Nov  6 08:49:37 1994', when], // asctime
    ['Thu, 01 Jan 1970 00:00:00 GMT', 0],
  ])('%s', (value, ms) => {
    expect(parseHttpDate(value)).toBe(ms);
  });

  test.each(['1', 'yesterday', '', 'Sun, 06 Nov 1994 08:49:37', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Foo 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:00:00 GMT', '1994-11-06T08:49:37Z'])(
    '%j is not an HTTP-date',
    (value) => {
      expect(parseHttpDate(value)).toBeNull();
    },
  );
});

describe('contentTypeFor', () => {
  test.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['a.htm', 'text/html; charset=utf-8'],
    ['a.css', 'text/css; charset=utf-8'],
    ['a.js', 'text/javascript; charset=utf-8'],
    ['a.mjs', 'text/javascript; charset=utf-8'],
    ['a.json', 'application/json; charset=utf-8'],
    ['a.js.map', 'application/json; charset=utf-8'],
    ['a.txt', 'text/plain; charset=utf-8'],
    ['a.xml', 'application/xml; charset=utf-8'],
    ['a.svg', 'image/svg+xml; charset=utf-8'],
    ['a.png', 'image/png'],
    ['a.jpg', 'image/jpeg'],
    ['a.JPEG', 'image/jpeg'],
    ['a.gif', 'image/gif'],
    ['a.webp', 'image/webp'],
    ['a.ico', 'image/x-icon'],
    ['a.wasm', 'application/wasm'],
    ['a.pdf', 'application/pdf'],
    ['a.woff', 'font/woff'],
    ['a.woff2', 'font/woff2'],
    ['a.mp4', 'video/mp4'],
    ['a.webm', 'video/webm'],
    ['/dir.html/file', 'application/octet-stream'],
    ['a.unknown', 'application/octet-stream'],
    ['Makefile', 'application/octet-stream'],
    ['.html', 'application/octet-stream'],
    ['a.', 'application/octet-stream'],
  ])('%s → %s', (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });
});

test('escapeHtml escapes what could end text or a quoted attribute', () => {
  expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  expect(escapeHtml('plain wörld')).toBe('plain wörld');
});
