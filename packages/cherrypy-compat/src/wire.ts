/**
 * Cheroot's answers on the wire: the text of its "simple responses" to requests it refuses, and
 * the refusals it makes that Rocket's core leaves to the app (absolute-form targets, lowercase
 * methods). Pure functions: facts about a request in, status and message out.
 */

import type { HttpError } from '@rocketserver/core';

/** A refusal as cheroot words it: status line text (`'400 Bad Request'`) and body. */
export interface Refusal {
  status: string;
  message: string;
  /** Cheroot adds `Connection: close` to its 413 refusals on HTTP/1.1. */
  connectionClose?: boolean;
}

const MALFORMED_LINE = 'Malformed Request-Line';
export const NOT_ORIGIN_FORM =
  'Invalid path in Request-URI: request-target must contain origin-form which starts with absolute-path (URI starting with a slash "/").';
export const MALFORMED_METHOD =
  'Malformed method name: According to RFC 2616 (section 5.1.1) and its successors RFC 7230 (section 3.1.1) and RFC 7231 (section 4.1) method names are case-sensitive and uppercase.';
export const ABSOLUTE_URI = 'Absolute URI not allowed if server is not a proxy.';

const bad = (message: string): Refusal => ({ status: '400 Bad Request', message });

/**
 * Cheroot's answer to a request the core refused before any app saw it. `received` is what had
 * arrived of the request (the request-line tells apart the cases the core reports with one code).
 */
export function refusalFor(error: HttpError, received: Buffer): Refusal {
  const line = requestLine(received);
  switch (error.code) {
    case 'ROCKET_ERR_BAD_REQUEST_LINE':
    case 'ROCKET_ERR_BAD_METHOD':
      return bad(MALFORMED_LINE);
    case 'ROCKET_ERR_BAD_VERSION':
    case 'ROCKET_ERR_VERSION_NOT_SUPPORTED':
      return versionRefusal(line.split(' ')[2] ?? '');
    case 'ROCKET_ERR_BAD_TARGET': {
      const target = line.split(' ')[1] ?? '';
      if (target.includes('#')) return bad('Illegal #fragment in Request-URI.');
      if (/[\x80-\xff]/.test(target)) return bad('Malformed Request-URI');
      if (target !== '' && !target.startsWith('/') && target !== '*') return bad(NOT_ORIGIN_FORM);
      return bad('Malformed Request-URI');
    }
    case 'ROCKET_ERR_BARE_LF':
    case 'ROCKET_ERR_BARE_CR':
      return bad('HTTP requires CRLF terminators');
    case 'ROCKET_ERR_BAD_HEADER':
    case 'ROCKET_ERR_OBS_FOLD':
      return bad('Illegal header line.');
    case 'ROCKET_ERR_BAD_CONTENT_LENGTH':
      return bad('Malformed Content-Length Header.');
    case 'ROCKET_ERR_HEADER_TOO_LARGE':
    case 'ROCKET_ERR_TOO_MANY_HEADERS':
      return { status: '413 Request Entity Too Large', message: 'The headers sent with the request exceed the maximum allowed bytes.', connectionClose: true };
    case 'ROCKET_ERR_REQUEST_LINE_TOO_LONG':
      return { status: '414 Request-URI Too Long', message: 'The Request-URI sent with the request exceeds the maximum allowed bytes.' };
    case 'ROCKET_ERR_BODY_TOO_LARGE':
      return { status: '413 Request Entity Too Large', message: 'The entity sent with the request exceeds the maximum allowed bytes.', connectionClose: true };
    case 'ROCKET_ERR_UNSUPPORTED_TRANSFER_CODING':
      return { status: '501 Unimplemented', message: '' };
    case 'ROCKET_ERR_METHOD_NOT_IMPLEMENTED':
      // CONNECT: this is not a proxy.
      return { status: '405 Method Not Allowed', message: '' };
    case 'ROCKET_ERR_TIMEOUT':
      return { status: '408 Request Timeout', message: '' };
    default:
      // Refusals cheroot does not make (the core's stricter rules): the core's status and reason.
      return { status: `${error.status} ${STATUS_TEXT[error.status] ?? 'Bad Request'}`, message: error.message };
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 413: 'Request Entity Too Large', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 505: 'HTTP Version Not Supported' };

/** `GET / HTTPS/1.1`, `HTTP/1`, `HTTP/2.15`, `HTTP/0.9`, `HTTP/1.x`: cheroot's distinctions. */
function versionRefusal(version: string): Refusal {
  if (!version.startsWith('HTTP/')) return bad(`${MALFORMED_LINE}: bad protocol`);
  const numbers = version.slice(5);
  if (/^\d+$/.test(numbers)) return bad(`${MALFORMED_LINE}: bad version`);
  const match = /^(\d+)\.(\d+)$/.exec(numbers);
  if (match === null) return bad(MALFORMED_LINE);
  const major = Number(match[1]);
  if (major > 1) return { status: '505 HTTP Version Not Supported', message: 'Cannot fulfill request' };
  return { status: '505 HTTP Version Not Supported', message: '' };
}

/** The request-line of what was received, without leading empty lines (latin1). */
function requestLine(received: Buffer): string {
  const text = received.toString('latin1').replace(/^(?:\r\n)+/, '');
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}

/** The bytes of cheroot's simple response: no Date, no Server; the connection closes after it. */
export function simpleResponse(protocol: string, refusal: Refusal): string {
  const body = Buffer.from(refusal.message, 'latin1');
  let head = `${protocol} ${refusal.status}\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n`;
  if (refusal.connectionClose === true && protocol === 'HTTP/1.1') head += 'Connection: close\r\n';
  return `${head}\r\n${refusal.message}`;
}

/**
 * Requests the core serves but cheroot refuses before the app: a lowercase method, an absolute-form
 * target (this is not a proxy). Null when the request may go on to the app.
 */
export function appLevelRefusal(method: string, requestUri: string): Refusal | null {
  if (method !== method.toUpperCase()) return bad(MALFORMED_METHOD);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(requestUri)) return bad(ABSOLUTE_URI);
  return null;
}

/**
 * PATH_INFO as cheroot's WSGI 1.0 gateway makes it: the percent-decoded bytes of the path, each
 * byte one character (latin-1), `%2F` kept as it is — so `/%D0%AE` is `'/\xd0\xae'`, and bytes that
 * are not UTF-8 survive. Null for a malformed escape.
 */
export function latin1Path(target: string): string | null {
  const query = target.indexOf('?');
  const raw = query === -1 ? target : target.slice(0, query);
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    const byte = parseInt(hex, 16);
    out += byte === 0x2f ? '%2F' : String.fromCharCode(byte);
    i += 2;
  }
  return out;
}
