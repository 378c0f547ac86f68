/**
 * Character classes of RFC 9110/9112, as lookup tables indexed by char code (0–255).
 * A table entry is 1 when the character is allowed.
 */

function table(allowed: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = allowed(c) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/**
 * token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 * "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA   (RFC 9110 §5.6.2)
 */
export const TCHAR = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_SYMBOLS.includes(String.fromCharCode(c)),
);

/**
 * Characters allowed inside a field value: field-vchar (VCHAR / obs-text) plus SP and HTAB between
 * them (RFC 9110 §5.5). CR, LF, NUL and every other control character are refused: a recipient
 * that tolerates them is how header injection and request smuggling start.
 */
export const FIELD_VALUE = table((c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/**
 * Characters allowed in a request-target. The URI grammar (RFC 3986) is ASCII-only and has no
 * whitespace or control characters; we accept every VCHAR (as llhttp does) so that clients that
 * leave `|`, `{` or `^` unencoded keep working — except `#`: a fragment is never part of a
 * request-target (RFC 9112 §3.2), and one that reached the app would end up in QUERY_STRING.
 */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e && c !== 0x23);

/** Hex digit value, or -1. */
export const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

/** The value of a hex digit's char code, -1 for any other char (any code, not only bytes). */
export function hexValue(c: number): number {
  return c < 256 ? HEX[c]! : -1;
}

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;

/** True if every character of `s` is a tchar (and `s` is not empty). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * True if `s` can go on the wire as a field value: field-vchar, SP and HTAB only, so no CR, LF or
 * NUL can split a response, and only characters that fit in one latin1 byte.
 */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return false;
  }
  return true;
}
