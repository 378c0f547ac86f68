/**
 * Well-known header field names, interned: when a request carries one of them spelled as browsers
 * and HTTP libraries spell it (`User-Agent`, or all lower case), the parser hands out this one
 * string instead of slicing a new one. Later lookups keyed by the name (its environ key, its
 * lower-case form) then hit a string whose hash is already known.
 */

const COMMON = [
  'Accept',
  'Accept-Charset',
  'Accept-Encoding',
  'Accept-Language',
  'Access-Control-Request-Headers',
  'Access-Control-Request-Method',
  'Authorization',
  'Cache-Control',
  'Connection',
  'Content-Encoding',
  'Content-Length',
  'Content-Type',
  'Cookie',
  'DNT',
  'Date',
  'Expect',
  'Forwarded',
  'From',
  'Host',
  'If-Match',
  'If-Modified-Since',
  'If-None-Match',
  'If-Range',
  'If-Unmodified-Since',
  'Keep-Alive',
  'Origin',
  'Pragma',
  'Priority',
  'Range',
  'Referer',
  'Sec-Ch-Ua',
  'Sec-Ch-Ua-Mobile',
  'Sec-Ch-Ua-Platform',
  'Sec-Fetch-Dest',
  'Sec-Fetch-Mode',
  'Sec-Fetch-Site',
  'Sec-Fetch-User',
  'Sec-WebSocket-Extensions',
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Version',
  'TE',
  'Trailer',
  'Transfer-Encoding',
  'Upgrade',
  'Upgrade-Insecure-Requests',
  'User-Agent',
  'Via',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'X-Forwarded-Proto',
  'X-Real-IP',
  'X-Request-ID',
  'X-Requested-With',
];

const TABLE_SIZE = 1024;
const TABLE: (string | undefined)[] = new Array(TABLE_SIZE);
/** The same names as bytes, compared with the request's bytes. */
const TABLE_BYTES: (Uint8Array | undefined)[] = new Array(TABLE_SIZE);

/**
 * Where a name goes in the table: from its length and its first and last characters, which the
 * parser has at hand without another pass over the name. Names that share a slot are told apart by
 * comparing the name itself.
 */
export function nameSlot(length: number, first: number, last: number): number {
  return (Math.imul(length, 97) + Math.imul(first, 31) + last) & (TABLE_SIZE - 1);
}

for (const name of COMMON) {
  for (const spelling of new Set([name, name.toLowerCase()])) {
    const slot = nameSlot(spelling.length, spelling.charCodeAt(0), spelling.charCodeAt(spelling.length - 1));
    // On a collision the first name keeps the slot; the other is simply not interned.
    if (TABLE[slot] === undefined) {
      TABLE[slot] = spelling;
      TABLE_BYTES[slot] = Buffer.from(spelling, 'latin1');
    }
  }
}

/**
 * The interned name for the bytes `buf[at..at + end - start)`, which are `s[start..end)` (in table
 * slot `slot`), or a fresh slice of `s` when it is not a well-known name in a well-known spelling.
 * The name is compared as bytes: typed-array reads are cheaper than `charCodeAt` on both strings.
 */
export function internName(buf: Uint8Array, at: number, s: string, start: number, end: number, slot: number): string {
  const bytes = TABLE_BYTES[slot];
  if (bytes !== undefined && bytes.length === end - start && sameBytes(buf, at, bytes)) return TABLE[slot]!;
  return s.slice(start, end);
}

function sameBytes(buf: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let k = 0; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}
