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

/** The hash the parser computes while it checks a name's characters: exact, case-sensitive. */
export function nameHash(hash: number, c: number): number {
  return (Math.imul(hash, 31) + c) | 0;
}

function hashOf(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = nameHash(h, name.charCodeAt(i));
  return h;
}

for (const name of COMMON) {
  for (const spelling of new Set([name, name.toLowerCase()])) {
    const slot = hashOf(spelling) & (TABLE_SIZE - 1);
    // On a collision the first name keeps the slot; the other is simply not interned.
    TABLE[slot] ??= spelling;
  }
}

/**
 * The interned name for `s[start..end)` (whose hash is `hash`), or a fresh slice when it is not a
 * well-known name in a well-known spelling.
 */
export function internName(s: string, start: number, end: number, hash: number): string {
  const candidate = TABLE[hash & (TABLE_SIZE - 1)];
  if (candidate !== undefined && candidate.length === end - start && s.startsWith(candidate, start)) return candidate;
  return s.slice(start, end);
}
