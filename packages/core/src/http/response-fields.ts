/**
 * The header fields an application gives for its response, checked and serialised. Pure: values
 * in, lines and facts out, or a `RocketError` naming the bad value.
 *
 * Everything is checked before it can reach the wire: a name that is not a token, or a value with
 * CR, LF or NUL in it, would let request data split the response (CWE-113). The fields that frame
 * the message or say whether the connection persists are noted as facts; the server writes its
 * own `Connection` and `Keep-Alive`, and drops what cannot apply (RFC 9112 §6.1, RFC 9110 §8.6).
 */

import { RocketError } from '../errors.js';
import { isFieldValue, isToken } from './chars.js';
import { isBodilessStatus } from './response-head.js';

/** Response headers as WSGI has them: a list of `[name, value]` pairs. */
export type ResponseHeaders = ReadonlyArray<readonly [string, string | number]>;

/**
 * What a response's own fields say about its framing and persistence. A head prepared elsewhere
 * (`PreparedHead`) has the same shape, without the transfer-coding facts.
 */
export interface ResponseFieldFacts {
  /** `Name: value\r\n` lines to send, without `Connection`, `Keep-Alive` and what cannot apply. */
  readonly lines: string;
  /** The `Content-Length` given (also when it is not sent, on a 204 or 205), else -1. */
  readonly contentLength: number;
  /** `Transfer-Encoding` ends in `chunked`. */
  readonly chunked?: boolean;
  /** `Transfer-Encoding` names a coding other than a final `chunked`. */
  readonly otherCoding?: boolean;
  /** `Connection: close` was among them. */
  readonly close: boolean;
  readonly hasDate: boolean;
  readonly hasServer: boolean;
}

const CLOSE_OPTION = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;
const FINAL_CHUNKED = /(?:^|,)[ \t]*chunked[ \t]*$/i;

/**
 * Check and serialise the header fields of a response with status `code`: a list of
 * `[name, value]` pairs, or with `flat` a `[name, value, name, value, …]` list. Numbers are sent
 * as text. `http11`: the client speaks HTTP/1.1 (an HTTP/1.0 one is never sent Transfer-Encoding).
 * @throws {RocketError} ROCKET_ERR_START_RESPONSE naming the bad field.
 * @example
 * checkResponseFields(200, [['Content-Type', 'text/plain'], ['Content-Length', 5]], false, true);
 * // { lines: 'Content-Type: text/plain\r\nContent-Length: 5\r\n', contentLength: 5, chunked: false, … }
 */
export function checkResponseFields(code: number, headers: ResponseHeaders | readonly string[], flat: boolean, http11: boolean): ResponseFieldFacts {
  if (!Array.isArray(headers)) {
    throw new RocketError('ROCKET_ERR_START_RESPONSE', 'response headers must be a list of [name, value] pairs');
  }
  const noContent = isBodilessStatus(code);
  let lines = '';
  let contentLength = -1;
  let chunked = false;
  let otherCoding = false;
  let close = false;
  let hasDate = false;
  let hasServer = false;
  const count = flat ? headers.length >> 1 : headers.length;
  for (let i = 0; i < count; i++) {
    let name: unknown;
    let value: unknown;
    if (flat) {
      name = headers[2 * i];
      value = headers[2 * i + 1];
    } else {
      const pair = headers[i];
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new RocketError('ROCKET_ERR_START_RESPONSE', `response header #${i} is not a [name, value] pair`);
      }
      name = pair[0];
      value = pair[1];
    }
    if (typeof name !== 'string' || !isToken(name)) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `invalid response header name ${JSON.stringify(name)}`);
    }
    if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
    if (typeof value !== 'string' || !isFieldValue(value)) {
      throw new RocketError('ROCKET_ERR_START_RESPONSE', `invalid value for response header ${name}: ${JSON.stringify(value)}`);
    }
    // Only names of these lengths can be fields the server acts on; the rest pass untouched.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'date') hasDate = true;
        break;
      case 6:
        if (name.toLowerCase() === 'server') hasServer = true;
        break;
      case 10: {
        const lower = name.toLowerCase();
        if (lower === 'connection') {
          if (CLOSE_OPTION.test(value)) close = true;
          continue;
        }
        if (lower === 'keep-alive') continue;
        break;
      }
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = parseResponseLength(value);
          if (n < 0) throw new RocketError('ROCKET_ERR_START_RESPONSE', `invalid Content-Length ${JSON.stringify(value)}`);
          if (contentLength !== -1) {
            if (n !== contentLength) throw new RocketError('ROCKET_ERR_START_RESPONSE', 'several different Content-Length headers');
            continue;
          }
          contentLength = n;
          // RFC 9110 §8.6, §15.3.6: no Content-Length in a 204 or 205. A 304 may carry the selected representation's.
          if (code === 204 || code === 205) continue;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          if (FINAL_CHUNKED.test(value)) chunked = true;
          else otherCoding = true;
          // RFC 9112 §6.1: never to HTTP/1.0, never on a response without content.
          if (!http11 || noContent) continue;
        }
        break;
    }
    lines += `${name as string}: ${value}\r\n`;
  }
  if (contentLength !== -1 && (chunked || otherCoding)) {
    throw new RocketError('ROCKET_ERR_START_RESPONSE', 'both Content-Length and Transfer-Encoding in the response headers');
  }
  return { lines, contentLength, chunked, otherCoding, close, hasDate, hasServer };
}

/**
 * `name: value\r\n` lines from a flat `[name, value, …]` list (an interim response's fields,
 * trailers), each checked so nothing can split the message. `what` names them in the error.
 * @throws {RocketError} ROCKET_ERR_RESPONSE naming the bad field.
 * @example
 * fieldLines(['Link', '</style.css>; rel=preload'], 'interim response header'); // 'Link: </style.css>; rel=preload\r\n'
 */
export function fieldLines(fields: readonly string[], what: string): string {
  let lines = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (typeof name !== 'string' || !isToken(name)) throw new RocketError('ROCKET_ERR_RESPONSE', `invalid ${what} name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || !isFieldValue(value)) {
      throw new RocketError('ROCKET_ERR_RESPONSE', `invalid value for ${what} ${name}: ${JSON.stringify(value)}`);
    }
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

/**
 * A response's `Content-Length` value: digits only (RFC 9110 §8.6), at most 15 of them so the
 * number stays exact; -1 when it is not one.
 */
export function parseResponseLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
