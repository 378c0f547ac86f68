/**
 * Message framing and persistence of a request (RFC 9112 §6 and §9.3): how long its body is, and
 * whether the connection may carry another request after it. Pure functions over a parsed head.
 */

import { HttpError } from '../errors.js';
import { HTAB, SP, isToken } from './chars.js';
import { parseContentLength } from './content-length.js';
import type { RequestHead } from './request-head.js';

/** How the body of a request is delimited. */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

export const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
export const CHUNKED_BODY: BodyFraming = Object.freeze({ kind: 'chunked' });

/**
 * Decide the body framing of a request (RFC 9112 §6.3).
 *
 * - `Transfer-Encoding` and `Content-Length` together: 400. §6.3 allows "handle as an error"; since
 *   the pair is the CL.TE/TE.CL smuggling primitive we do not try to guess which one a proxy used.
 * - `Transfer-Encoding` in an HTTP/1.0 request: 400 (§6.1 "MUST treat the message as if the framing
 *   is faulty").
 * - `Transfer-Encoding` must be a well-formed list whose last coding is `chunked`, applied once
 *   (400 otherwise, RFC 9112 §6.3); any other coding before it is one we do not decode (501,
 *   RFC 9112 §6.1).
 * - `Content-Length` must be digits only; several values must all be equal (400 otherwise).
 * - A length beyond `maxBodySize` (when non-zero) is 413 before a byte of the body is read.
 *
 * @example
 * requestBodyFraming(head, 1 << 20); // { kind: 'length', length: 5 }
 */
export function requestBodyFraming(head: RequestHead, maxBodySize: number): BodyFraming {
  const te = head.transferEncoding;
  const cl = head.contentLength;
  if (te !== null) {
    if (cl !== null) {
      throw new HttpError(400, 'ROCKET_ERR_TE_WITH_CONTENT_LENGTH', 'both Transfer-Encoding and Content-Length');
    }
    if (head.version === 10) {
      throw new HttpError(400, 'ROCKET_ERR_BAD_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 request');
    }
    checkTransferCodings(te);
    return CHUNKED_BODY;
  }
  if (cl === null) return NO_BODY;
  const length = parseContentLength(cl);
  if (length === 0) return NO_BODY;
  if (length === Infinity) throw new HttpError(413, 'ROCKET_ERR_BODY_TOO_LARGE', 'Content-Length is too large');
  if (maxBodySize > 0 && length > maxBodySize) {
    throw new HttpError(413, 'ROCKET_ERR_BODY_TOO_LARGE', `request body larger than ${maxBodySize} bytes`);
  }
  return { kind: 'length', length };
}

/**
 * Check a `Transfer-Encoding` list: `#transfer-coding`, transfer-coding = token *( OWS ";" OWS
 * transfer-parameter ) (RFC 9112 §7). Empty list elements are refused rather than skipped:
 * `Transfer-Encoding: ,chunked` is a known way to make two parsers disagree.
 *
 * The framing question comes first, the coding question second:
 * - chunked not the final coding (absent, not last, or applied twice): 400, whatever the other
 *   codings are. RFC 9112 §6.3 rule 4: "the server MUST respond with the 400 (Bad Request) status
 *   code and then close the connection", since where the body ends cannot be known. node:http
 *   answers 400 to these too.
 * - chunked final, after any other coding (`gzip, chunked`, `foo, chunked`): 501, RFC 9112 §6.1
 *   ("a transfer coding it does not understand SHOULD respond with 501"); we decode no coding
 *   but chunked. node:http hands these to the app with the coded body.
 */
function checkTransferCodings(values: readonly string[]): void {
  const codings: string[] = [];
  for (const value of values) {
    for (const element of value.split(',')) {
      const coding = trimOWS(element);
      if (coding.length === 0) throw badTE('empty element in Transfer-Encoding');
      const semi = coding.indexOf(';');
      const name = (semi === -1 ? coding : trimOWS(coding.slice(0, semi))).toLowerCase();
      if (!isToken(name)) throw badTE('malformed Transfer-Encoding');
      if (name === 'chunked' && semi !== -1) throw badTE('parameters on the chunked coding');
      codings.push(name);
    }
  }
  const last = codings.length - 1;
  if (codings[last] !== 'chunked') throw badTE('chunked is not the final transfer coding');
  // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once.
  if (codings.indexOf('chunked') !== last) throw badTE('chunked is applied more than once');
  if (last > 0) {
    throw new HttpError(501, 'ROCKET_ERR_UNSUPPORTED_TRANSFER_CODING', 'only the chunked transfer coding is supported');
  }
}

function badTE(message: string): HttpError {
  return new HttpError(400, 'ROCKET_ERR_BAD_TRANSFER_ENCODING', message);
}

/** Connection options of a request (RFC 9110 §7.6.1), as bits. */
export const CONNECTION_CLOSE = 1;
export const CONNECTION_KEEP_ALIVE = 2;
export const CONNECTION_UPGRADE = 4;

/**
 * Parse `Connection` values as a case-insensitive list of tokens. Unknown tokens are ignored;
 * malformed elements are ignored too (the field only ever relaxes persistence, and `close`
 * anywhere in it wins).
 */
export function connectionOptions(values: readonly string[] | null): number {
  if (values === null) return 0;
  let bits = 0;
  for (const value of values) {
    for (const element of value.split(',')) {
      const token = trimOWS(element).toLowerCase();
      if (token === 'close') bits |= CONNECTION_CLOSE;
      else if (token === 'keep-alive') bits |= CONNECTION_KEEP_ALIVE;
      else if (token === 'upgrade') bits |= CONNECTION_UPGRADE;
    }
  }
  return bits;
}

/**
 * RFC 9112 §9.3: HTTP/1.1 persists unless `close` is present; HTTP/1.0 persists only when the
 * client asked with `keep-alive` (and did not also say `close`).
 */
export function requestWantsKeepAlive(version: number, options: number): boolean {
  if (options & CONNECTION_CLOSE) return false;
  return version === 11 || (options & CONNECTION_KEEP_ALIVE) !== 0;
}

/** Remove optional whitespace (SP / HTAB) at both ends. */
export function trimOWS(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isOWS(s.charCodeAt(a))) a++;
  while (b > a && isOWS(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isOWS(c: number): boolean {
  return c === SP || c === HTAB;
}

