/**
 * The request head parser (src/http/request-head.ts): request-line and header section of
 * RFC 9112 §2–§5, fed as raw bytes. Each vector is fed whole, behind the bytes of a previous
 * request, split in two at every offset, and one byte at a time; all must give the same outcome.
 */

import { describe, expect, test } from 'vitest';
import { HttpError } from '../../src/errors.js';
import { HeadScan, isHostValue, parseRequestHead, type HeadLimits } from '../../src/http/request-head.js';
import { FIELD_VALUE } from '../../src/http/chars.js';
import {
  LIMITS,
  byteByByte,
  bytes,
  splitAt,
  whole,
  type HeadOutcome,
  type HeadSnapshot,
} from './feed.js';

/** Small limits, so the limit vectors stay short enough to split at every offset. */
const SMALL: HeadLimits = { maxRequestLine: 32, maxHeaderSize: 64, maxHeaders: 3 };

/** What most valid vectors parse to; each vector overrides what differs. */
const BASE: Omit<HeadSnapshot, 'size'> = {
  method: 'GET',
  target: '/',
  targetForm: 'origin',
  version: 11,
  rawHeaders: ['Host', 'a'],
  contentLength: null,
  transferEncoding: null,
  connection: null,
  host: 'a',
  hostCount: 1,
  expect: null,
  upgrade: null,
};

type Vector = {
  /** What is checked, with the RFC rule. */
  name: string;
  input: string;
  limits?: HeadLimits;
} & (
  | { head: Partial<HeadSnapshot> }
  | {
      error: [status: number, code: string];
      /**
       * Codes a split delivery may report instead, because the bytes seen so far show a different
       * defect first (the incremental checks run before the head is complete). The whole input
       * must give `error` exactly, and every delivery the same status.
       */
      splitCodes?: string[];
    }
  | { incomplete: true }
);

const a = (n: number): string => 'a'.repeat(n);

const VALID: Vector[] = [
  // ---- request-line (RFC 9112 §3) and request-target forms (§3.2) ----
  {
    name: 'origin-form with a query (RFC 9112 §3.2.1)',
    input: 'GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { target: '/a/b?x=1&y=%20' },
  },
  {
    name: 'target keeps every VCHAR as sent, e.g. | { } ^ ` " < > \\ (RFC 9112 §3.2, lenient like llhttp)',
    input: 'GET /a|b{c}^d`e"<>\\f HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { target: '/a|b{c}^d`e"<>\\f' },
  },
  {
    name: 'absolute-form (RFC 9112 §3.2.2)',
    input: 'GET http://example.com:8080/p?q HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { target: 'http://example.com:8080/p?q', targetForm: 'absolute' },
  },
  {
    name: 'absolute-form with an empty path (RFC 9112 §3.2.2)',
    input: 'GET https://a HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { target: 'https://a', targetForm: 'absolute' },
  },
  {
    name: 'absolute-form scheme may hold ALPHA DIGIT + - . (RFC 3986 §3.1)',
    input: 'GET Svn+ssh.x-1://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { target: 'Svn+ssh.x-1://a/', targetForm: 'absolute' },
  },
  {
    name: 'absolute-form whose authority differs from Host is accepted; Host is ignored later (RFC 9112 §3.2.2)',
    input: 'GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { target: 'http://b/', targetForm: 'absolute' },
  },
  {
    name: 'asterisk-form with OPTIONS (RFC 9112 §3.2.4)',
    input: 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { method: 'OPTIONS', target: '*', targetForm: 'asterisk' },
  },
  {
    name: 'authority-form with CONNECT is parsed; the connection answers 501 (RFC 9112 §3.2.3)',
    input: 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n',
    head: {
      method: 'CONNECT',
      target: 'a.example:443',
      targetForm: 'authority',
      rawHeaders: ['Host', 'a.example:443'],
      host: 'a.example:443',
    },
  },
  {
    name: 'CONNECT with an origin-form target stays origin-form (RFC 9112 §3.2)',
    input: 'CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { method: 'CONNECT', target: '/x' },
  },
  {
    name: 'method is any token, case-sensitive (RFC 9110 §9.1, §5.6.2)',
    input: "x!#$%&'*+-.^_`|~9 / HTTP/1.1\r\nHost: a\r\n\r\n",
    head: { method: "x!#$%&'*+-.^_`|~9" },
  },
  {
    name: 'lower-case method is kept as sent (RFC 9110 §9.1: methods are case-sensitive)',
    input: 'get / HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { method: 'get' },
  },
  {
    name: 'HTTP/1.0 without Host (RFC 9112 §3.2: Host is required only in HTTP/1.1)',
    input: 'GET / HTTP/1.0\r\n\r\n',
    head: { version: 10, rawHeaders: [], host: null, hostCount: 0 },
  },
  {
    name: 'HTTP/1.0 with Host (RFC 9112 §2.3)',
    input: 'POST /x HTTP/1.0\r\nHost: a\r\n\r\n',
    head: { method: 'POST', target: '/x', version: 10 },
  },
  // ---- empty lines before the request-line (RFC 9112 §2.2) ----
  {
    name: 'one empty line before the request-line is ignored and counted in size (RFC 9112 §2.2)',
    input: '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    head: {},
  },
  {
    name: 'eight empty lines before the request-line are ignored (RFC 9112 §2.2, bounded)',
    input: `${'\r\n'.repeat(8)}GET / HTTP/1.1\r\nHost: a\r\n\r\n`,
    head: {},
  },
  // ---- field lines (RFC 9112 §5, RFC 9110 §5) ----
  {
    name: 'OWS around the field value is removed, inner SP/HTAB kept (RFC 9112 §5.1)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v \ta\t \r\n\r\n',
    head: { rawHeaders: ['Host', 'a', 'X-A', 'v \ta'] },
  },
  {
    name: 'no OWS at all after the colon (RFC 9112 §5.1)',
    input: 'GET / HTTP/1.1\r\nHost:a\r\nX:b\r\n\r\n',
    head: { rawHeaders: ['Host', 'a', 'X', 'b'] },
  },
  {
    name: 'empty field values (RFC 9110 §5.5: field-value = *field-content)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX-E:\r\nX-F:  \t \r\n\r\n',
    head: { rawHeaders: ['Host', 'a', 'X-E', '', 'X-F', ''] },
  },
  {
    name: 'obs-text 0x80-0xFF is allowed in field values (RFC 9110 §5.5 obs-text)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX-O: caf\xe9 \x80\xa0\xff\r\n\r\n',
    head: { rawHeaders: ['Host', 'a', 'X-O', 'caf\xe9 \x80\xa0\xff'] },
  },
  {
    name: 'every tchar in a field name (RFC 9110 §5.1 field-name = token)',
    input: "GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
    head: { rawHeaders: ['Host', 'a', "!#$%&'*+-.^_`|~09azAZ", 'v'] },
  },
  {
    name: 'field names keep their case; repeated fields keep their order (RFC 9110 §5.2, §5.3)',
    input: 'GET / HTTP/1.1\r\nhOsT: a\r\nX: 1\r\nx: 2\r\nX: 3\r\n\r\n',
    head: { rawHeaders: ['hOsT', 'a', 'X', '1', 'x', '2', 'X', '3'] },
  },
  {
    name: 'framing and persistence fields are collected case-insensitively (RFC 9110 §5.1)',
    input:
      'POST / HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: 5\r\nContent-Length:  5 \r\nCONNECTION: keep-alive\r\n' +
      'Connection: Upgrade\r\nEXPECT: 100-continue\r\nExpect: x\r\nupgrade: h2c\r\nUpgrade: websocket\r\n\r\n',
    head: {
      method: 'POST',
      rawHeaders: [
        'Host', 'a', 'content-LENGTH', '5', 'Content-Length', '5', 'CONNECTION', 'keep-alive',
        'Connection', 'Upgrade', 'EXPECT', '100-continue', 'Expect', 'x', 'upgrade', 'h2c', 'Upgrade', 'websocket',
      ],
      contentLength: ['5', '5'],
      connection: ['keep-alive', 'Upgrade'],
      expect: '100-continue, x',
      upgrade: 'websocket',
    },
  },
  {
    name: 'Transfer-Encoding lines are collected in order; framing is decided later (RFC 9112 §6.1)',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\ntransfer-encoding:\tchunked\r\n\r\n',
    head: {
      method: 'POST',
      rawHeaders: ['Host', 'a', 'Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked'],
      transferEncoding: ['gzip', 'chunked'],
    },
  },
  {
    name: 'HTAB inside a field value (RFC 9110 §5.5 field-content)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n',
    head: { rawHeaders: ['Host', 'a', 'X', 'a\tb'] },
  },
  // ---- Host (RFC 9110 §7.2, RFC 3986 §3.2.2) ----
  {
    name: 'Host with a port (RFC 9110 §7.2 Host = uri-host [ ":" port ])',
    input: 'GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n',
    head: { rawHeaders: ['Host', 'example.com:8080'], host: 'example.com:8080' },
  },
  {
    name: 'Host as an IPv6 literal with a port (RFC 3986 §3.2.2 IP-literal)',
    input: 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n',
    head: { rawHeaders: ['Host', '[::1]:8080'], host: '[::1]:8080' },
  },
  {
    name: 'Host as an IPv6 literal with embedded IPv4 (RFC 3986 §3.2.2)',
    input: 'GET / HTTP/1.1\r\nHost: [2001:DB8::ffff:192.0.2.1]\r\n\r\n',
    head: { rawHeaders: ['Host', '[2001:DB8::ffff:192.0.2.1]'], host: '[2001:DB8::ffff:192.0.2.1]' },
  },
  {
    name: 'Host as IPv4 (RFC 3986 §3.2.2 IPv4address)',
    input: 'GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n',
    head: { rawHeaders: ['Host', '192.0.2.1:80'], host: '192.0.2.1:80' },
  },
  {
    name: 'Host reg-name with unreserved, pct-encoded and sub-delims (RFC 3986 §3.2.2 reg-name)',
    input: "GET / HTTP/1.1\r\nHost: a-b.c_d~%41!$&'()*+,;=\r\n\r\n",
    head: { rawHeaders: ['Host', "a-b.c_d~%41!$&'()*+,;="], host: "a-b.c_d~%41!$&'()*+,;=" },
  },
  {
    name: 'empty Host (RFC 9112 §3.2: allowed when the target has no authority)',
    input: 'GET / HTTP/1.1\r\nHost:\r\n\r\n',
    head: { rawHeaders: ['Host', ''], host: '' },
  },
  {
    name: 'Host with an empty port (RFC 3986 §3.2.3 port = *DIGIT)',
    input: 'GET / HTTP/1.1\r\nHost: a:\r\n\r\n',
    head: { rawHeaders: ['Host', 'a:'], host: 'a:' },
  },
  // ---- what follows the head is not consumed (RFC 9112 §6, §9.3.2 pipelining) ----
  {
    name: 'a pipelined request after the head is not consumed (RFC 9112 §9.3.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n',
    head: { size: 27 },
  },
  {
    name: 'body bytes after the head are not consumed (RFC 9112 §6)',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
    head: { size: 47, method: 'POST', rawHeaders: ['Host', 'a', 'Content-Length', '5'], contentLength: ['5'] },
  },
  {
    name: 'bytes after the head are not examined, even garbage (RFC 9112 §2.1)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n\x16\x03\x01\x00\r\n\n\x00',
    head: { size: 27 },
  },
  // ---- limits, at the limit ----
  {
    name: 'request-line exactly maxRequestLine bytes (414 only beyond, RFC 9112 §3)',
    input: `GET /${a(18)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    limits: SMALL,
    head: { target: `/${a(18)}` },
  },
  {
    name: 'header section exactly maxHeaderSize bytes, CRLFs included (431 only beyond, RFC 6585 §5)',
    input: `GET / HTTP/1.1\r\nHost: a\r\nX: ${a(50)}\r\n\r\n`,
    limits: SMALL,
    head: { rawHeaders: ['Host', 'a', 'X', a(50)] },
  },
  {
    name: 'exactly maxHeaders fields (431 only beyond, RFC 6585 §5)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n',
    limits: SMALL,
    head: { rawHeaders: ['Host', 'a', 'A', '1', 'B', '2'] },
  },
];

const INVALID: Vector[] = [
  // ---- request-target forms (RFC 9112 §3.2) ----
  {
    name: 'asterisk-form with GET (RFC 9112 §3.2.4: only OPTIONS)',
    input: 'GET * HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'asterisk-form with CONNECT (RFC 9112 §3.2.4)',
    input: 'CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: '"*x" is no request-target form (RFC 9112 §3.2)',
    input: 'OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'relative path is no request-target form (RFC 9112 §3.2)',
    input: 'GET a/b HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'absolute-URI without an authority (RFC 9112 §3.2.2)',
    input: 'GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'absolute-form with an empty scheme (RFC 3986 §3.1)',
    input: 'GET ://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'absolute-form scheme starting with a digit (RFC 3986 §3.1 scheme = ALPHA ...)',
    input: 'GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'absolute-form scheme with "_" (RFC 3986 §3.1)',
    input: 'GET ht_tp://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'http URI with an empty host (RFC 9110 §4.2.1: a recipient MUST reject it as invalid)',
    input: 'GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  // ---- HTTP-version (RFC 9112 §2.3; RFC 9110 §15.6.6) ----
  {
    name: 'HTTP/2.0 is well-formed but not served: 505 (RFC 9110 §15.6.6)',
    input: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
    error: [505, 'ROCKET_ERR_VERSION_NOT_SUPPORTED'],
  },
  {
    name: 'HTTP/2 connection preface: 505 (RFC 9113 §3.4 / RFC 9110 §15.6.6)',
    input: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    error: [505, 'ROCKET_ERR_VERSION_NOT_SUPPORTED'],
  },
  {
    name: 'HTTP/1.2 is refused with 505 by design (RFC 9110 §6.2 would allow treating it as 1.1)',
    input: 'GET / HTTP/1.2\r\nHost: a\r\n\r\n',
    error: [505, 'ROCKET_ERR_VERSION_NOT_SUPPORTED'],
  },
  {
    name: 'HTTP/0.9 spelled as a version: 505 (RFC 9110 §15.6.6)',
    input: 'GET / HTTP/0.9\r\nHost: a\r\n\r\n',
    error: [505, 'ROCKET_ERR_VERSION_NOT_SUPPORTED'],
  },
  {
    name: 'HTTP/0.9 simple request without a version is refused (RFC 9112 §3)',
    input: 'GET /\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'lower-case "http/1.1" (RFC 9112 §2.3: HTTP-name is case-sensitive)',
    input: 'GET / http/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'two-digit minor "HTTP/1.10" (RFC 9112 §2.3: DIGIT "." DIGIT)',
    input: 'GET / HTTP/1.10\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'two-digit minor "HTTP/1.32" (RFC 9112 §2.3)',
    input: 'GET / HTTP/1.32\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'two-digit major "HTTP/11.1" (RFC 9112 §2.3)',
    input: 'GET / HTTP/11.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: '"HTTPS/1.1" (RFC 9112 §2.3: HTTP-name = "HTTP")',
    input: 'GET / HTTPS/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: '"HTTP/1" without a minor (RFC 9112 §2.3)',
    input: 'GET / HTTP/1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: '"HTTP/1,1" (RFC 9112 §2.3)',
    input: 'GET / HTTP/1,1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: '"HTTP/a.1" (RFC 9112 §2.3)',
    input: 'GET / HTTP/a.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'a fragment in the target (RFC 9112 §3.2: never part of a request-target)',
    input: 'GET /hello?test=something#fake HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'a version one digit short (RFC 9112 §2.3)',
    input: 'GET / HTTP/1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'a version one digit short, no header lines',
    input: 'GET / HTTP/1\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'SP after the version (RFC 9112 §3: request-line ends at the version)',
    input: 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: '"HTTP/\\r\\r1.1" (RFC 9112 §2.3, §2.2 bare CR)',
    input: 'GET / HTTP/\r\r1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
    splitCodes: ['ROCKET_ERR_BARE_CR'],
  },
  // ---- request-line separators and method (RFC 9112 §3) ----
  {
    name: 'two SP between method and target (RFC 9112 §3: exactly one SP)',
    input: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'two SP between target and version (RFC 9112 §3)',
    input: 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  {
    name: 'HTAB between method and target (RFC 9112 §3: SP only)',
    input: 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'HTAB between target and version (RFC 9112 §3: SP only)',
    input: 'GET /\tHTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'empty method (RFC 9112 §3: method = token)',
    input: ' / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  {
    name: 'request-line with only a method (RFC 9112 §3)',
    input: 'GET\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'non-token "@" in the method (RFC 9110 §9.1 method = token)',
    input: 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  {
    name: 'non-token "(" starting the method (RFC 9110 §9.1)',
    input: '(GET / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
    splitCodes: ['ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'obs-text 0xC9 in the method (RFC 9110 §9.1)',
    input: 'G\xc9T / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  {
    name: 'DEL in the method (RFC 9110 §9.1)',
    input: 'GET\x7f / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  // ---- request-target characters (RFC 9112 §3.2, RFC 3986 §2) ----
  {
    name: 'control character 0x01 in the target (RFC 3986 §2)',
    input: 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'VT in the target (RFC 3986 §2)',
    input: 'GET /a\x0bb HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'NUL in the target (RFC 3986 §2)',
    input: 'GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
    splitCodes: ['ROCKET_ERR_BAD_HEADER'],
  },
  {
    name: 'DEL in the target (RFC 3986 §2)',
    input: 'GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'non-ASCII byte 0xE9 in the target (RFC 3986 §2: ASCII only)',
    input: 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'non-ASCII byte 0x80 in the target (RFC 3986 §2)',
    input: 'GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_TARGET'],
  },
  {
    name: 'SP inside the target splits it; what follows is no version (RFC 9112 §3)',
    input: 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_VERSION'],
  },
  // ---- empty lines before the request-line (RFC 9112 §2.2) ----
  {
    name: 'nine empty lines before the request-line (RFC 9112 §2.2, bounded at eight)',
    input: `${'\r\n'.repeat(9)}GET / HTTP/1.1\r\nHost: a\r\n\r\n`,
    error: [400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
  },
  {
    name: 'leading bare LF (RFC 9112 §2.2: only CRLF empty lines are ignored here)',
    input: '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'leading CRLF then bare LF (RFC 9112 §2.2)',
    input: '\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'leading bare CR (RFC 9112 §2.2)',
    input: '\rGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  // ---- bare LF and bare CR (RFC 9112 §2.2) ----
  {
    name: 'request-line ended by a bare LF (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'bare LF inside the request-line (RFC 9112 §2.2)',
    input: 'GET /\nHTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'every line ended by a bare LF (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\nHost: a\n\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'header line ended by a bare LF (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'head ended by CRLF LF (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\n\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'head ended by LF CRLF (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'bare CR ending the request-line (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\rHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'bare CR inside the target (RFC 9112 §2.2)',
    input: 'GET /\r HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'bare CR inside the method (RFC 9112 §2.2)',
    input: 'GE\rT / HTTP/1.1\r\nHost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'bare CR inside a field value (RFC 9112 §2.2, "Header: va\\rlue")',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nHeader: va\rlue\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'bare CR inside a field name (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX\rY: 1\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'bare CR starting a line: "\\r\\n\\rX" (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\n\rX: y\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  {
    name: 'CR CR LF ending a field line (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\r\n\r\n',
    error: [400, 'ROCKET_ERR_BARE_CR'],
  },
  // ---- field lines (RFC 9112 §5) ----
  {
    name: 'obs-fold continuation line (RFC 9112 §5.2: server may reject with 400)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n',
    error: [400, 'ROCKET_ERR_OBS_FOLD'],
  },
  {
    name: 'obs-fold with HTAB (RFC 9112 §5.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n',
    error: [400, 'ROCKET_ERR_OBS_FOLD'],
  },
  {
    name: 'whitespace before the first field line (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\n Host: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_OBS_FOLD'],
  },
  {
    name: 'HTAB before the first field line, "\\tContent-Length: 1" (RFC 9112 §2.2)',
    input: 'POST / HTTP/1.1\r\n\tContent-Length: 1\r\nHost: a\r\n\r\nx',
    error: [400, 'ROCKET_ERR_OBS_FOLD'],
  },
  {
    name: 'SP between field name and colon (RFC 9112 §5.1: MUST reject with 400)',
    input: 'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  {
    name: 'HTAB between field name and colon (RFC 9112 §5.1)',
    input: 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  {
    name: 'field line without a colon (RFC 9112 §5.1)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  {
    name: 'field line "Name value" without a colon (RFC 9112 §5.1)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nName value\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  {
    name: 'empty field name (RFC 9110 §5.1 field-name = token)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  ...(
    [
      ['0x85', 'X\x85'],
      ['0xA0', 'X\xa0'],
      ['0x01', 'X\x01'],
      ['DEL', 'X\x7f'],
      ['NUL', 'X\x00'],
      ['"("', 'X('],
      ['"@"', 'X@'],
      ['"/"', 'X/'],
      ['DQUOTE', 'X"'],
    ] as const
  ).map(
    ([what, name]): Vector => ({
      name: `${what} in a field name (RFC 9110 §5.1 field-name = token)`,
      input: `GET / HTTP/1.1\r\nHost: a\r\n${name}: v\r\n\r\n`,
      error: [400, 'ROCKET_ERR_BAD_HEADER'],
    }),
  ),
  {
    name: '"Transfer-Encoding\\x85:" (RFC 9110 §5.1)',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\x85: chunked\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  ...(
    [
      ['NUL', '\x00'],
      ['0x01', '\x01'],
      ['BS', '\x08'],
      ['VT', '\x0b'],
      ['FF', '\x0c'],
      ['0x1F', '\x1f'],
      ['DEL', '\x7f'],
    ] as const
  ).map(
    ([what, c]): Vector => ({
      name: `${what} in a field value (RFC 9110 §5.5: field-vchar, SP, HTAB only)`,
      input: `GET / HTTP/1.1\r\nHost: a\r\nX: a${c}b\r\n\r\n`,
      error: [400, 'ROCKET_ERR_BAD_HEADER'],
    }),
  ),
  {
    name: 'NUL at the start of a field value (RFC 9110 §5.5)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  // ---- Host (RFC 9112 §3.2) ----
  {
    name: 'HTTP/1.1 without Host (RFC 9112 §3.2: MUST respond 400)',
    input: 'GET / HTTP/1.1\r\nX: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HOST'],
  },
  {
    name: 'HTTP/1.1 absolute-form without Host (RFC 9112 §3.2)',
    input: 'GET http://a/ HTTP/1.1\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HOST'],
  },
  {
    name: 'two Host lines (RFC 9112 §3.2: MUST respond 400)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HOST'],
  },
  {
    name: 'two identical Host lines (RFC 9112 §3.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HOST'],
  },
  {
    name: 'two Host lines in HTTP/1.0 (RFC 9112 §3.2: any request message)',
    input: 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HOST'],
  },
  ...(
    [
      ['a space', 'a b'],
      ['userinfo "@"', 'u@a'],
      ['a non-digit port', 'a:8o'],
      ['two ports', 'a:80:90'],
      ['a "/"', 'a/b'],
      ['a DQUOTE', 'a"'],
      ['obs-text', 'caf\xe9'],
      ['an unclosed IP-literal', '[::1'],
      ['an unbracketed IPv6 address', '::1'],
      ['junk after an IP-literal', '[::1]x'],
      ['non-hex in an IP-literal', '[zz::1]'],
      ['an empty IP-literal', '[]'],
      ['a "%" inside an IP-literal', '[fe80::1%25eth0]'],
    ] as const
  ).map(
    ([what, host]): Vector => ({
      name: `Host with ${what} (RFC 9112 §3.2: invalid Host value → 400; RFC 3986 §3.2.2)`,
      input: `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      error: [400, 'ROCKET_ERR_BAD_HOST'],
    }),
  ),
  {
    name: 'invalid Host value in HTTP/1.0 (RFC 9112 §3.2)',
    input: 'GET / HTTP/1.0\r\nHost: a b\r\n\r\n',
    error: [400, 'ROCKET_ERR_BAD_HOST'],
  },
  // ---- limits (RFC 9112 §3 → 414; RFC 6585 §5 → 431) ----
  {
    name: 'request-line one byte over maxRequestLine, complete (RFC 9112 §3: 414)',
    input: `GET /${a(19)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    limits: SMALL,
    error: [414, 'ROCKET_ERR_REQUEST_LINE_TOO_LONG'],
  },
  {
    name: 'request-line one byte over maxRequestLine, rest of the head not yet received (RFC 9112 §3: 414)',
    input: `GET /${a(19)} HTTP/1.1\r\nHost: a\r\n`,
    limits: SMALL,
    error: [414, 'ROCKET_ERR_REQUEST_LINE_TOO_LONG'],
  },
  {
    name: 'request-line two bytes over maxRequestLine, no CRLF yet (RFC 9112 §3: 414)',
    input: `GET /${a(20)} HTTP/1.1`,
    limits: SMALL,
    error: [414, 'ROCKET_ERR_REQUEST_LINE_TOO_LONG'],
  },
  {
    name: 'header section one byte over maxHeaderSize, complete (RFC 6585 §5: 431)',
    input: `GET / HTTP/1.1\r\nHost: a\r\nX: ${a(51)}\r\n\r\n`,
    limits: SMALL,
    error: [431, 'ROCKET_ERR_HEADER_TOO_LARGE'],
  },
  {
    name: 'header section over maxHeaderSize, end not yet received (RFC 6585 §5: 431)',
    input: `GET / HTTP/1.1\r\nHost: a\r\nX: ${a(60)}`,
    limits: SMALL,
    error: [431, 'ROCKET_ERR_HEADER_TOO_LARGE'],
  },
  {
    name: 'header section over maxHeaderSize in many short lines, end not yet received (RFC 6585 §5)',
    input: `GET / HTTP/1.1\r\n${'A: 1\r\n'.repeat(12)}`,
    limits: { ...SMALL, maxHeaders: 100 },
    error: [431, 'ROCKET_ERR_HEADER_TOO_LARGE'],
  },
  {
    name: 'one header field more than maxHeaders (RFC 6585 §5: 431)',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n',
    limits: SMALL,
    error: [431, 'ROCKET_ERR_TOO_MANY_HEADERS'],
  },
  // ---- garbage refused before the head is complete (early rejection) ----
  {
    name: 'TLS ClientHello on a plain port: first byte 0x16 is no method (RFC 9112 §3)',
    input: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x11',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  {
    name: 'NUL as the first byte (RFC 9112 §3)',
    input: '\x00\x00\x00\x00',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  {
    name: 'leading CRLF then a TLS record byte (RFC 9112 §2.2, §3)',
    input: '\r\n\x16\x03\x01',
    error: [400, 'ROCKET_ERR_BAD_METHOD'],
  },
  {
    name: 'NUL inside an unfinished request-line (RFC 9112 §3)',
    input: 'GET /\x00',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
  {
    name: 'bare LF ending an unfinished request-line (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'bare LF ending a field line of an unfinished head (RFC 9112 §2.2)',
    input: 'GET / HTTP/1.1\r\nHost: a\n',
    error: [400, 'ROCKET_ERR_BARE_LF'],
  },
  {
    name: 'NUL in a field value of an unfinished head (RFC 9110 §5.5)',
    input: 'GET / HTTP/1.1\r\nHost: a\x00',
    error: [400, 'ROCKET_ERR_BAD_HEADER'],
  },
];

const INCOMPLETE: Vector[] = [
  { name: 'nothing yet', input: '', incomplete: true },
  { name: 'a lone CR may begin an empty line (RFC 9112 §2.2)', input: '\r', incomplete: true },
  { name: 'empty lines only (RFC 9112 §2.2)', input: '\r\n\r\n\r\n', incomplete: true },
  { name: 'request-line without its CRLF', input: 'GET / HTTP/1.1', incomplete: true },
  { name: 'request-line then CR', input: 'GET / HTTP/1.1\r', incomplete: true },
  { name: 'head without the final empty line', input: 'GET / HTTP/1.1\r\nHost: a\r\n', incomplete: true },
  { name: 'head with half of the final empty line', input: 'GET / HTTP/1.1\r\nHost: a\r\n\r', incomplete: true },
  {
    name: 'request-line exactly at maxRequestLine, CRLF not yet received (RFC 9112 §3)',
    input: `GET /${a(18)} HTTP/1.1`,
    limits: SMALL,
    incomplete: true,
  },
  {
    name: 'request-line exactly at maxRequestLine plus its CR (RFC 9112 §3)',
    input: `GET /${a(18)} HTTP/1.1\r`,
    limits: SMALL,
    incomplete: true,
  },
  {
    name: 'header section exactly at maxHeaderSize plus the CR of the final empty line (RFC 6585 §5)',
    input: `GET / HTTP/1.1\r\nHost: a\r\nX: ${a(50)}\r\n\r`,
    limits: SMALL,
    incomplete: true,
  },
];

function expectedOutcome(v: Vector, input: Buffer): HeadOutcome {
  if ('head' in v) return { kind: 'head', head: { ...BASE, size: input.length, ...v.head } };
  if ('error' in v) return { kind: 'error', status: v.error[0], code: v.error[1] };
  return { kind: 'incomplete' };
}

/** Every delivery of the input must give `expected`; a split may name a listed other code. */
function checkDeliveries(v: Vector): void {
  const input = bytes(v.input);
  const limits = v.limits ?? LIMITS;
  const expected = expectedOutcome(v, input);
  const splitCodes = 'error' in v ? [v.error[1], ...(v.splitCodes ?? [])] : [];
  const same = (outcome: HeadOutcome, how: string): void => {
    if (expected.kind === 'error' && outcome.kind === 'error' && splitCodes.includes(outcome.code)) {
      expect(outcome.status, how).toBe(expected.status);
      return;
    }
    expect(outcome, how).toEqual(expected);
  };
  expect(whole(input, limits), 'whole').toEqual(expected);
  expect(whole(input, limits, 7), 'whole, after 7 bytes of a previous request').toEqual(expected);
  for (let k = 1; k < input.length; k++) same(splitAt(input, k, limits), `split at ${k}`);
  same(byteByByte(input, limits), 'byte by byte');
}

describe('valid heads', () => {
  test.each(VALID)('$name', (v) => checkDeliveries(v));
});

describe('invalid heads', () => {
  test.each(INVALID)('$name', (v) => checkDeliveries(v));
});

describe('incomplete heads ask for more', () => {
  test.each(INCOMPLETE)('$name', (v) => checkDeliveries(v));
});

describe('early rejection of incomplete heads', () => {
  // checkIncomplete documents that garbage and overlong lines are refused "as soon as [they are]
  // visible"; these pin the edges of that promise.

  test('request-line one byte over maxRequestLine whose last byte is not CR is refused (RFC 9112 §3: 414)', () => {
    // 33 bytes, the last one "1": the request-line is already longer than 32 whatever follows.
    const input = bytes(`GET /${a(19)} HTTP/1.1`);
    expect(whole(input, SMALL)).toEqual({ kind: 'error', status: 414, code: 'ROCKET_ERR_REQUEST_LINE_TOO_LONG' });
  });

  test('a bare CR is refused when the byte after it arrives in a later read (RFC 9112 §2.2)', () => {
    const input = bytes('GET / HTTP/1.1\rX');
    const expected = { kind: 'error', status: 400, code: 'ROCKET_ERR_BARE_CR' };
    expect(whole(input), 'whole').toEqual(expected);
    expect(splitAt(input, 15), 'split between CR and X').toEqual(expected);
  });

  test('a complete head with a bare CR is refused whichever read brings the byte after it (RFC 9112 §2.2)', () => {
    const input = bytes('GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n');
    for (let k = 1; k < input.length; k++) {
      expect(splitAt(input, k), `split at ${k}`).toEqual({ kind: 'error', status: 400, code: 'ROCKET_ERR_BARE_CR' });
    }
  });
});

describe('fail fast: a complete line that is invalid is refused as soon as it is complete', () => {
  // None of these heads has ended: each is refused on the byte that completes its bad line (or,
  // for a line that starts with whitespace, on that byte), as llhttp refuses them, instead of
  // when the head ends or its timer fires. Fed byte by byte, the bytes before that one ask for
  // more; fed whole, they are refused the same way.
  const FAIL_FAST: [string, string, number, string, HeadLimits?][] = [
    ['whitespace at the start of the first field line (obs-fold)', 'GET / HTTP/1.1\r\n ', 400, 'ROCKET_ERR_OBS_FOLD'],
    ['a tab at the start of a later field line (obs-fold)', 'GET / HTTP/1.1\r\nHost: a\r\n\t', 400, 'ROCKET_ERR_OBS_FOLD'],
    ['a method with a character outside tchar', 'G(T / HTTP/1.1\r\n', 400, 'ROCKET_ERR_BAD_METHOD'],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\n', 400, 'ROCKET_ERR_BAD_REQUEST_LINE'],
    ['a malformed version', 'GET / HTTP/1.x\r\n', 400, 'ROCKET_ERR_BAD_VERSION'],
    ['a version too short', 'GET / HTTP/1\r\n', 400, 'ROCKET_ERR_BAD_VERSION'],
    ['an unsupported version', 'GET / HTTP/2.0\r\n', 505, 'ROCKET_ERR_VERSION_NOT_SUPPORTED'],
    ['a target in no form', 'GET foo HTTP/1.1\r\n', 400, 'ROCKET_ERR_BAD_TARGET'],
    ['asterisk-form with GET', 'GET * HTTP/1.1\r\n', 400, 'ROCKET_ERR_BAD_TARGET'],
    ['a field line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n', 400, 'ROCKET_ERR_BAD_HEADER'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n', 400, 'ROCKET_ERR_BAD_HEADER'],
    ['an empty field name', 'GET / HTTP/1.1\r\n: a\r\n', 400, 'ROCKET_ERR_BAD_HEADER'],
    ['a control character in a value', 'GET / HTTP/1.1\r\nX: a\x01b\r\n', 400, 'ROCKET_ERR_BAD_HEADER'],
    ['Content-Length with 22 digits', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789012\r\n', 413, 'ROCKET_ERR_BODY_TOO_LARGE'],
    ['Content-Length that is not digits', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n', 400, 'ROCKET_ERR_BAD_CONTENT_LENGTH'],
    ['Content-Length with a sign', 'POST / HTTP/1.1\r\nContent-Length: +1\r\n', 400, 'ROCKET_ERR_BAD_CONTENT_LENGTH'],
    ['a second, different Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n', 400, 'ROCKET_ERR_BAD_CONTENT_LENGTH'],
    ['a second Host', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n', 400, 'ROCKET_ERR_BAD_HOST'],
    ['a Host that is not one', 'GET / HTTP/1.1\r\nHost: a b\r\n', 400, 'ROCKET_ERR_BAD_HOST'],
    ['one field more than maxHeaders', 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n', 431, 'ROCKET_ERR_TOO_MANY_HEADERS', SMALL],
  ];

  test.each(FAIL_FAST)('%s: refused on its last byte', (_name, text, status, code, limits = LIMITS) => {
    const input = bytes(text);
    const expected = { kind: 'error', status, code };
    expect(byteByByte(input, limits), 'byte by byte').toEqual(expected);
    expect(byteByByte(input.subarray(0, input.length - 1), limits), 'all but the last byte').toEqual({ kind: 'incomplete' });
    expect(whole(input, limits), 'whole').toEqual(expected);
    for (let k = 1; k < input.length; k++) expect(splitAt(input, k, limits), `split at ${k}`).toEqual(expected);
  });

  test('valid lines of a head that has not ended are not refused, however they arrive', () => {
    const input = bytes('POST /x?y HTTP/1.1\r\nHost: a:80\r\nContent-Length: 000012\r\nContent-Length: 12\r\nX: \x80\xff\t v\r\n');
    expect(byteByByte(input)).toEqual({ kind: 'incomplete' });
    expect(whole(input)).toEqual({ kind: 'incomplete' });
  });
});

describe('default limits', () => {
  test('request-line of exactly 8192 bytes is accepted; 8193 is 414 (RFC 9112 §3)', () => {
    const ok = bytes(`GET /${a(8192 - 14)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const over = bytes(`GET /${a(8193 - 14)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(whole(ok)).toMatchObject({ kind: 'head', head: { size: ok.length } });
    expect(byteByByte(ok)).toMatchObject({ kind: 'head', head: { size: ok.length } });
    const tooLong = { kind: 'error', status: 414, code: 'ROCKET_ERR_REQUEST_LINE_TOO_LONG' };
    expect(whole(over)).toEqual(tooLong);
    expect(byteByByte(over)).toEqual(tooLong);
    expect(whole(over.subarray(0, 8200))).toEqual(tooLong);
  });

  test('header section of exactly 16384 bytes is accepted; one more is 431 (RFC 6585 §5)', () => {
    const field = (n: number) => `X: ${a(n - 5)}\r\n`;
    const ok = bytes(`GET / HTTP/1.1\r\nHost: a\r\n${field(16384 - 9)}\r\n`);
    const over = bytes(`GET / HTTP/1.1\r\nHost: a\r\n${field(16385 - 9)}\r\n`);
    expect(whole(ok)).toMatchObject({ kind: 'head', head: { size: ok.length } });
    const tooLarge = { kind: 'error', status: 431, code: 'ROCKET_ERR_HEADER_TOO_LARGE' };
    expect(whole(over)).toEqual(tooLarge);
    expect(byteByByte(over)).toEqual(tooLarge);
  });

  test('100 header fields are accepted; 101 is 431 (RFC 6585 §5)', () => {
    const fields = (n: number) => `Host: a\r\n${'X: 1\r\n'.repeat(n - 1)}`;
    expect(whole(bytes(`GET / HTTP/1.1\r\n${fields(100)}\r\n`))).toMatchObject({ kind: 'head' });
    expect(whole(bytes(`GET / HTTP/1.1\r\n${fields(101)}\r\n`))).toEqual({
      kind: 'error',
      status: 431,
      code: 'ROCKET_ERR_TOO_MANY_HEADERS',
    });
  });
});

describe('parseRequestHead API', () => {
  test('two pipelined heads parse one after the other with a reset HeadScan (RFC 9112 §9.3.2)', () => {
    const buf = bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r\nPOST /2 HTTP/1.0\r\n\r\n');
    const scan = new HeadScan();
    const first = parseRequestHead(buf, 0, buf.length, LIMITS, scan);
    expect(first).not.toBeNull();
    expect(first!.target).toBe('/1');
    expect(first!.size).toBe(28);
    scan.reset();
    const second = parseRequestHead(buf, first!.size, buf.length, LIMITS, scan);
    expect(second).not.toBeNull();
    expect(second!.method).toBe('POST');
    expect(second!.version).toBe(10);
    // The empty line between the two heads is counted in the second head's size.
    expect(first!.size + second!.size).toBe(buf.length);
  });

  test('bytes past `end` are not read', () => {
    // The head is complete only if the parser looks past `end`.
    const buf = bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    for (let end = 0; end < buf.length; end++) {
      expect(parseRequestHead(buf, 0, end, LIMITS, new HeadScan()), `end ${end}`).toBeNull();
    }
    const dirty = bytes('GET / HTTP/1.1\r\nHost: a\r\n\x00\n\r');
    expect(parseRequestHead(dirty, 0, 25, LIMITS, new HeadScan())).toBeNull();
  });

  test('errors are HttpErrors with a status, a stable code and a message', () => {
    let caught: unknown;
    try {
      parseRequestHead(bytes('GET / HTTP/1.1\r\nHost : a\r\n\r\n'), 0, 28, LIMITS, new HeadScan());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HttpError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({
      name: 'HttpError',
      status: 400,
      code: 'ROCKET_ERR_BAD_HEADER',
      message: 'whitespace between a header field name and the colon',
    });
  });

  test('limit messages name the configured limit', () => {
    const buf = bytes(`GET /${a(40)} HTTP/1.1\r\n\r\n`);
    expect(() => parseRequestHead(buf, 0, buf.length, SMALL, new HeadScan())).toThrow('request-line longer than 32 bytes');
  });
});

describe('isHostValue', () => {
  test.each(['', 'a', 'a.b', 'a:1', 'a:', '[::1]', '[::1]:80', '[V1.a]', '1.2.3.4:65535', "!$&'()*+,;=-._~%"])(
    'accepts %j',
    (h) => expect(isHostValue(h)).toBe(true),
  );
  test.each(['a b', 'a@b', 'a:x', '[::1', '[]', '[:]x', '::1', 'a/b', 'a?b', 'a#b', '\xe9', '[g::1]', 'a:1:2'])(
    'refuses %j',
    (h) => expect(isHostValue(h)).toBe(false),
  );
});

describe('field values, byte by byte', () => {
  test('a value accepts exactly the bytes of FIELD_VALUE (VCHAR, obs-text, SP, HTAB), whatever the scan is written as', () => {
    const limits = { maxRequestLine: 8192, maxHeaderSize: 16384, maxHeaders: 100 };
    for (let b = 0; b < 256; b++) {
      if (b === 0x0d || b === 0x0a) continue; // line ends, refused as bare CR or LF by other tests
      const buf = Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\nX: a${String.fromCharCode(b)}b\r\n\r\n`, 'latin1');
      let accepted: boolean;
      try {
        accepted = parseRequestHead(buf, 0, buf.length, limits, new HeadScan()) !== null;
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        accepted = false;
      }
      expect([b, accepted]).toEqual([b, FIELD_VALUE[b] === 1]);
    }
  });
});

describe('header names', () => {
  test('come out exactly as sent: well-known names in any case, and names one byte away from one', () => {
    const limits = { maxRequestLine: 8192, maxHeaderSize: 16384, maxHeaders: 100 };
    const known = ['User-Agent', 'Accept-Encoding', 'Content-Type', 'Sec-Fetch-Mode', 'X-Requested-With', 'Referer'];
    const names: string[] = ['Host'];
    for (const name of known) {
      const middle = name.length >> 1;
      const other = name[middle] === 'x' ? 'y' : 'x';
      names.push(name, name.toLowerCase(), name.toUpperCase(), name.slice(0, middle) + other + name.slice(middle + 1));
    }
    const lines = names.map((name, k) => `${name}: v${k}\r\n`).join('');
    const buf = Buffer.from(`GET / HTTP/1.1\r\n${lines}\r\n`, 'latin1');
    const head = parseRequestHead(buf, 0, buf.length, limits, new HeadScan())!;
    expect(head.rawHeaders.filter((_, k) => k % 2 === 0)).toEqual(names);
  });
});
