/**
 * Response heads: the status line, header fields from the application, and the server's own
 * canned error responses. Pure: strings in, strings or errors out.
 *
 * Everything an application hands us is validated before it can reach the wire. A status or a
 * header value with CR, LF or NUL in it would let request data split a response (CWE-113), so it
 * is refused and the request ends in a 500 instead.
 */

import { isFieldValue, isToken } from './chars.js';
import { STATUS_REASONS, statusText } from './status.js';

/** A parsed, validated status: its code and the full status line (with CRLF). */
export interface Status {
  readonly code: number;
  /** `HTTP/1.1 200 OK\r\n` */
  readonly line: string;
}

const statusCache = new Map<string, Status>();
const STATUS_CACHE_LIMIT = 512;

/**
 * Parse a WSGI status string: three digits, then optionally a space and a reason phrase
 * (`reason-phrase = *( HTAB / SP / VCHAR / obs-text )`, RFC 9112 §4). A missing reason phrase is
 * filled in from the registry.
 *
 * Any three-digit code from 100 to 999 passes: RFC 9110 §15 defines only the first digit's
 * classes, a client treats an unknown code as the x00 of its class, and node:http sends codes up
 * to 999 (Express and Koa test that `res.status(700)` goes out). Whether a 1xx may be final is
 * for the caller to decide.
 *
 * @returns the status, or `null` when the string is not a valid status.
 * @example
 * parseStatus('404 Not Found'); // { code: 404, line: 'HTTP/1.1 404 Not Found\r\n' }
 */
export function parseStatus(status: string): Status | null {
  const cached = statusCache.get(status);
  if (cached !== undefined) return cached;
  if (typeof status !== 'string' || status.length < 3) return null;
  let code = 0;
  for (let i = 0; i < 3; i++) {
    const d = status.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return null;
    code = code * 10 + d;
  }
  if (code < 100) return null;
  let line: string;
  if (status.length === 3) {
    line = `HTTP/1.1 ${statusText(code)}\r\n`;
  } else {
    if (status.charCodeAt(3) !== 0x20 || !isFieldValue(status)) return null;
    line = status.length === 4 ? `HTTP/1.1 ${statusText(code)}\r\n` : `HTTP/1.1 ${status}\r\n`;
  }
  const parsed: Status = { code, line };
  if (statusCache.size < STATUS_CACHE_LIMIT) statusCache.set(status, parsed);
  return parsed;
}

/** True if `name` may be sent as a field name (a token, RFC 9110 §5.1). */
export const isValidHeaderName = isToken;

/** True if `value` may be sent as a field value: no CR, LF, NUL or other control characters. */
export const isValidHeaderValue = isFieldValue;

/** True for status codes whose responses never carry content (RFC 9110 §6.4.1, §15.3.6). */
export function isBodilessStatus(code: number): boolean {
  return code < 200 || code === 204 || code === 205 || code === 304;
}

/**
 * The server's own error response: `Content-Type: text/plain; charset=utf-8`, an exact
 * `Content-Length` (in UTF-8 bytes: send it as UTF-8), and `Connection: close` — the connection
 * is closed after it. `withoutBody` for the answer to a HEAD request.
 *
 * @example
 * errorResponse(431, 'header section larger than 16384 bytes', 'Sat, 21 Nov 2026 07:00:00 GMT', 'Rocket/0.1.0');
 */
export function errorResponse(
  code: number,
  detail: string | undefined,
  date: string,
  server: string | null,
  extraHeaders = '',
  withoutBody = false,
  protocol = 'HTTP/1.1',
): string {
  const reason = STATUS_REASONS[code] ?? 'Error';
  const body = detail ? `${code} ${reason}: ${detail}\n` : `${code} ${reason}\n`;
  return (
    `${protocol} ${code} ${reason}\r\n` +
    `Date: ${date}\r\n` +
    (server ? `Server: ${server}\r\n` : '') +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    extraHeaders +
    'Connection: close\r\n\r\n' +
    // The answer to a HEAD request has the headers of the full answer, and no content.
    (withoutBody ? '' : body)
  );
}
