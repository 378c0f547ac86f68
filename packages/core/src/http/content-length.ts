/**
 * The value of `Content-Length`, checked. Its own module because both the head parser (which
 * refuses a number too large as soon as it sees it) and the framing decision read it.
 */

import { HttpError } from '../errors.js';

/**
 * `Content-Length = 1*DIGIT` (RFC 9110 §8.6). Repeated fields must carry the same number. No sign,
 * no whitespace inside, no list form: each of those has been a smuggling vector somewhere.
 *
 * @returns the length; `Infinity` for a number too large to represent (the caller answers 413).
 */
export function parseContentLength(values: readonly string[]): number {
  let length = -1;
  for (const value of values) {
    if (value.length === 0) throw badLength('empty Content-Length');
    let n = 0;
    for (let i = 0; i < value.length; i++) {
      const d = value.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) throw badLength('Content-Length is not a non-negative decimal integer');
      n = n * 10 + d;
    }
    if (n > Number.MAX_SAFE_INTEGER) n = Infinity;
    if (length !== -1 && n !== length) throw badLength('several different Content-Length values');
    length = n;
  }
  return length;
}

function badLength(message: string): HttpError {
  return new HttpError(400, 'ROCKET_ERR_BAD_CONTENT_LENGTH', message);
}
