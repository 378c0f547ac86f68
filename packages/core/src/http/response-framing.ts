/**
 * How a response is delimited and whether its connection persists, said in its head (RFC 9112
 * §6, §9). Pure: facts in, a framing and the header lines that announce it out. The response
 * decides once, when its head is committed; these functions are the rules it decides by.
 */

import { isBodilessStatus } from './response-head.js';
import type { ResponseFieldFacts } from './response-fields.js';

/** How the body of a response is delimited. */
export const enum ResponseFraming {
  /** No content follows: 1xx, 204, 205, 304 (and the answer to HEAD, decided by the caller). */
  None,
  /** `Content-Length`: the application's, or the known total of the body. */
  Length,
  Chunked,
  /** The end of the body is the end of the connection. */
  Close,
}

/**
 * The framing of a response with status `code`, from what its own fields say and `total`, the
 * body's length when it is known before the head goes out (-1 otherwise):
 * - no content for 1xx, 204, 205 and 304 (RFC 9110 §6.4.1);
 * - the application's `Content-Length`, which the body is then held to;
 * - its `Transfer-Encoding: chunked` to HTTP/1.1; any other coding, or chunked to HTTP/1.0,
 *   can only be delimited by closing (RFC 9112 §6.1, §6.3);
 * - a known total becomes `Content-Length`;
 * - else chunked to HTTP/1.1, and closing to HTTP/1.0, which has no chunked coding.
 * @example
 * chooseResponseFraming(200, { contentLength: -1 }, 5, true); // ResponseFraming.Length
 */
export function chooseResponseFraming(code: number, fields: Pick<ResponseFieldFacts, 'contentLength' | 'chunked' | 'otherCoding'>, total: number, http11: boolean): ResponseFraming {
  if (isBodilessStatus(code)) return ResponseFraming.None;
  if (fields.contentLength !== -1) return ResponseFraming.Length;
  if (fields.chunked === true) return http11 ? ResponseFraming.Chunked : ResponseFraming.Close;
  if (fields.otherCoding === true) return ResponseFraming.Close;
  if (total >= 0) return ResponseFraming.Length;
  return http11 ? ResponseFraming.Chunked : ResponseFraming.Close;
}

/**
 * The framing fields the server adds to the application's for `framing`: `Content-Length` for a
 * total it worked out, `Transfer-Encoding: chunked` for a chunked body the application did not
 * announce, `Content-Length: 0` on a 205 (which, unlike 204 and 304, is not self-delimiting,
 * RFC 9112 §6.3). The answer to HEAD says no `Transfer-Encoding`: how the GET would be framed is
 * not known (RFC 9110 §9.3.2).
 * @example
 * framingFields(ResponseFraming.Length, 200, { contentLength: -1 }, 5, false); // 'Content-Length: 5\r\n'
 */
export function framingFields(
  framing: ResponseFraming,
  code: number,
  fields: Pick<ResponseFieldFacts, 'contentLength' | 'chunked'>,
  total: number,
  isHead: boolean,
): string {
  switch (framing) {
    case ResponseFraming.None:
      return code === 205 ? 'Content-Length: 0\r\n' : '';
    case ResponseFraming.Length:
      return fields.contentLength === -1 ? `Content-Length: ${total}\r\n` : '';
    case ResponseFraming.Chunked:
      return fields.chunked === true || isHead ? '' : 'Transfer-Encoding: chunked\r\n';
    default:
      return '';
  }
}

/**
 * The persistence fields that end a response head, its final CRLF included. `hint`: the value of
 * the `Keep-Alive` hint ('' for none). `minimal` says only what the protocol needs: HTTP/1.1
 * persists unless told, HTTP/1.0 closes unless told (RFC 9112 §9.3); otherwise every response says
 * `keep-alive` or `close`.
 * @example
 * persistenceFields(true, true, false, 'timeout=5'); // 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n'
 */
export function persistenceFields(keepAlive: boolean, http11: boolean, minimal: boolean, hint: string): string {
  if (minimal) {
    if (keepAlive && !http11) return hint !== '' ? `Connection: Keep-Alive\r\nKeep-Alive: ${hint}\r\n\r\n` : 'Connection: Keep-Alive\r\n\r\n';
    return keepAlive || !http11 ? '\r\n' : 'Connection: close\r\n\r\n';
  }
  if (keepAlive) return hint !== '' ? `Connection: keep-alive\r\nKeep-Alive: ${hint}\r\n\r\n` : 'Connection: keep-alive\r\n\r\n';
  return 'Connection: close\r\n\r\n';
}

/**
 * The value of the `Keep-Alive` hint (RFC 2068 §19.7.1.1, as node:http sends it): the idle
 * timeout in whole seconds, rounded down — `timeout=0` under a second still tells a client not to
 * reuse the connection later — and a request limit as `max`. '' when connections never time out.
 * @example
 * keepAliveHint(5, 100); // 'timeout=5, max=100'
 */
export function keepAliveHint(timeoutSeconds: number, maxRequests: number): string {
  if (!(timeoutSeconds > 0)) return '';
  return maxRequests > 0 ? `timeout=${Math.floor(timeoutSeconds)}, max=${maxRequests}` : `timeout=${Math.floor(timeoutSeconds)}`;
}
