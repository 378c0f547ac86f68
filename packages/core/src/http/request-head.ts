/**
 * The request head: request-line and header section (RFC 9112 §2–§5), from bytes to values.
 *
 * Pure: no sockets, no timers. The connection calls {@link parseRequestHead} each time bytes
 * arrive; it answers `null` ("need more") until the head is complete, then a {@link RequestHead},
 * or throws an {@link HttpError} carrying the status to answer with.
 *
 * Strictness is deliberate. Every leniency a parser grants (obs-fold, bare LF, whitespace before
 * the colon, stray control characters) is a place where this server and a proxy in front of it can
 * disagree about where a request ends — which is how request smuggling works. So each is refused.
 */

import { HttpError, type HttpErrorCode } from '../errors.js';
import { CR, HTAB, LF, SP, TARGET, TCHAR } from './chars.js';
import { parseContentLength } from './content-length.js';
import { internName, nameSlot } from './header-names.js';

/** Size limits the head parser enforces. */
export interface HeadLimits {
  /** Longest request-line, in bytes, without its CRLF (414 beyond). */
  maxRequestLine: number;
  /** Largest header section, in bytes, CRLFs included (431 beyond). */
  maxHeaderSize: number;
  /** Most header fields (431 beyond). */
  maxHeaders: number;
  /** Refuse an HTTP/1.1 request without Host (400); true unless the operator chose otherwise. */
  requireHost?: boolean;
}

/** Where the request-target is in the URI grammar (RFC 9112 §3.2). */
export type TargetForm = 'origin' | 'absolute' | 'asterisk' | 'authority';

/**
 * A parsed request head. Values are latin1 strings exactly as received (RFC 9110 §5.5: field
 * values are octets; latin1 maps each octet to one char), with leading and trailing whitespace
 * of field values removed.
 */
export class RequestHead {
  /** Bytes this head took in the buffer, from `start`, leading empty lines included. */
  size = 0;
  method = '';
  /** The request-target as sent. */
  target = '';
  targetForm: TargetForm = 'origin';
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  version = 11;
  /** Header fields as received: name, value, name, value, … (names keep their case). */
  rawHeaders: string[] = [];
  /** `Content-Length` values, in order (usually one or none). */
  contentLength: string[] | null = null;
  /** `Transfer-Encoding` values, in order. */
  transferEncoding: string[] | null = null;
  /** `Connection` values, in order. */
  connection: string[] | null = null;
  host: string | null = null;
  hostCount = 0;
  expect: string | null = null;
  upgrade: string | null = null;
}

/**
 * Resumable scan state for one head. The connection keeps one per request and passes it back in,
 * so bytes already examined are not examined again while a head trickles in.
 */
export class HeadScan {
  /** Offset (relative to the head's start) up to which bytes were checked. */
  checked = 0;
  /** Length of the request-line once its CRLF was seen, else -1. */
  lineLength = -1;
  /** Leading empty lines (CRLF) skipped before the request-line, in bytes. */
  leading = 0;
  /** Offset (relative to the head's start) of the line not complete yet. */
  nextLine = 0;
  /** The lines of a head that trickles in, parsed as each is complete; null until the first. */
  partial: RequestHead | null = null;

  reset(): void {
    this.checked = 0;
    this.lineLength = -1;
    this.leading = 0;
    this.nextLine = 0;
    this.partial = null;
  }
}

/** Empty lines a client may send before a request-line (RFC 9112 §2.2 "SHOULD ignore at least one"). */
const MAX_LEADING_EMPTY_LINES = 8;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** `buf.latin1Slice(a, b)`: one C++ call that maps each byte to one char. */
const latin1 = (buf: Buffer, a: number, b: number): string =>
  (buf as unknown as { latin1Slice(a: number, b: number): string }).latin1Slice(a, b);

/**
 * Parse the head that starts at `buf[start]`, with `buf[end]` the first byte not yet received.
 *
 * @returns the head (its `size` is how many bytes it took), or `null` when more bytes are needed.
 * @throws {HttpError} 400, 414, 431, 505 — see each check for its RFC rule.
 *
 * @example
 * const head = parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 0, 27, limits, new HeadScan());
 * head?.method; // 'GET'
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
  scan: HeadScan,
): RequestHead | null {
  // RFC 9112 §2.2: ignore empty lines before the request-line, but only CRLF ones and only a few.
  let lineStart = start + scan.leading;
  while (end - lineStart >= 1 && buf[lineStart] === CR) {
    if (end - lineStart < 2) return null;
    if (buf[lineStart + 1] !== LF) throw bareCR();
    if (scan.leading >= MAX_LEADING_EMPTY_LINES * 2) {
      throw new HttpError(400, 'ROCKET_ERR_BAD_REQUEST_LINE', 'too many empty lines before the request-line');
    }
    scan.leading += 2;
    lineStart += 2;
  }
  if (lineStart >= end) return null;
  if (buf[lineStart] === LF) throw bareLF();

  // The head ends at the first CRLFCRLF. Search from just before the bytes already checked, so a
  // head that arrives one byte at a time is not rescanned from the beginning each time.
  const from = Math.max(lineStart, lineStart + scan.checked - 3);
  const headEnd = buf.indexOf(CRLFCRLF, from);
  if (headEnd === -1 || headEnd + 4 > end) {
    checkIncomplete(buf, lineStart, end, limits, scan);
    return null;
  }
  const head = parseCompleteHead(buf, lineStart, headEnd + 2, limits);
  head.size = headEnd + 4 - start;
  return head;
}

/**
 * Checks on a head that is not complete yet, so that garbage, an overlong request-line or an
 * oversize header section is refused as soon as it is visible instead of when the timeout fires.
 *
 * Fail fast, as llhttp does: each line is parsed as soon as its CRLF arrives (the request-line,
 * then each field line, with the same rules and the same errors as for a whole head), and a line
 * that starts with whitespace is refused at its first byte. A client that sends one bad line and
 * then waits gets its 400 at once, not when the head timer fires.
 */
function checkIncomplete(buf: Buffer, lineStart: number, end: number, limits: HeadLimits, scan: HeadScan): void {
  if (TCHAR[buf[lineStart]!] === 0) {
    throw new HttpError(400, 'ROCKET_ERR_BAD_METHOD', 'the request-line does not start with a method');
  }
  for (let i = lineStart + scan.checked; i < end; i++) {
    const c = buf[i]!;
    if (c === LF) {
      if (i === lineStart || buf[i - 1] !== CR) throw bareLF();
      checkLine(buf, lineStart, lineStart + scan.nextLine, i + 1, limits, scan);
      scan.nextLine = i + 1 - lineStart;
    } else if ((c === SP || c === HTAB) && scan.lineLength !== -1 && i === lineStart + scan.nextLine) {
      throw obsFold();
    } else if (c === CR) {
      if (i + 1 < end && buf[i + 1] !== LF) throw bareCR();
    } else if (c === 0) {
      throw new HttpError(400, 'ROCKET_ERR_BAD_HEADER', 'NUL byte in the request head');
    }
  }
  // A CR at the very end is looked at again with the byte that follows it.
  const endsInCR = buf[end - 1] === CR;
  scan.checked = end - lineStart - (endsInCR ? 1 : 0);
  if (scan.lineLength === -1) {
    // Without its CRLF, the request-line is already everything received (but a final CR).
    if (scan.checked > limits.maxRequestLine) throw requestLineTooLong(limits);
  } else if (scan.lineLength > limits.maxRequestLine) {
    throw requestLineTooLong(limits);
  } else if (scan.checked - scan.lineLength - 2 > limits.maxHeaderSize + 1) {
    // More header bytes than allowed, and not even the final empty line yet.
    throw headerTooLarge(limits);
  }
}

/**
 * Parse the line `buf[from..to)` (CRLF included) of a head that starts at `buf[lineStart]` and is
 * still arriving, as a whole head would be.
 */
function checkLine(buf: Buffer, lineStart: number, from: number, to: number, limits: HeadLimits, scan: HeadScan): void {
  const s = latin1(buf, from, to);
  if (scan.lineLength === -1) {
    scan.lineLength = to - 2 - from;
    if (scan.lineLength > limits.maxRequestLine) throw requestLineTooLong(limits);
    const head = (scan.partial = new RequestHead());
    parseRequestLine(buf, from, to, s, head);
    return;
  }
  // The field lines so far are already more than the whole section may be.
  if (to - lineStart - scan.lineLength - 2 > limits.maxHeaderSize) throw headerTooLarge(limits);
  const head = scan.partial!;
  parseFieldLines(buf, from, to, s, from, head.rawHeaders, limits.maxHeaders, head);
}

/**
 * Parse a complete head: `buf[base..end)` holds the request-line and every header line, each
 * ending in CRLF, without the final empty line. The bytes are checked as bytes (typed-array reads
 * are the cheapest way to look at every byte in JavaScript); the strings handed out are slices of
 * one latin1 decoding of the whole head.
 */
function parseCompleteHead(buf: Buffer, base: number, end: number, limits: HeadLimits): RequestHead {
  const head = new RequestHead();
  const s = latin1(buf, base, end);

  if (s.indexOf('\r\n') > limits.maxRequestLine) throw requestLineTooLong(limits);
  const i = parseRequestLine(buf, base, end, s, head);
  if (end - i > limits.maxHeaderSize) throw headerTooLarge(limits);
  parseFieldLines(buf, i, end, s, base, head.rawHeaders, limits.maxHeaders, head);
  checkHost(head, limits.requireHost !== false);
  return head;
}

/**
 * Parse the request-line at `buf[base]` into `head`, its target form checked too; `s` is the
 * latin1 text of `buf` from `base` on, and `end` bounds the lines received.
 *
 * @returns the offset of the first byte after the request-line's CRLF.
 */
function parseRequestLine(buf: Buffer, base: number, end: number, s: string, head: RequestHead): number {
  // request-line = method SP request-target SP HTTP-version   (RFC 9112 §3)
  let i = base;
  let c = 0;
  while (TCHAR[(c = buf[i]!)] === 1) i++;
  if (i === base) throw new HttpError(400, 'ROCKET_ERR_BAD_METHOD', 'the request-line does not start with a method');
  if (c !== SP) throw badRequestLine(buf, i, 'ROCKET_ERR_BAD_METHOD', 'the method is not a token followed by one space');
  head.method = s.slice(0, i - base);
  const targetStart = ++i;
  while (TARGET[(c = buf[i]!)] === 1) i++;
  if (i === targetStart || c !== SP) {
    throw badRequestLine(buf, i, 'ROCKET_ERR_BAD_TARGET', 'the request-target is empty or holds a character outside the URI grammar');
  }
  head.target = s.slice(targetStart - base, i - base);
  i++;
  // HTTP-version = "HTTP/" DIGIT "." DIGIT   (RFC 9112 §2.3): exactly eight characters.
  const v = i;
  if (end - v < 10 || buf[v + 8] !== CR) {
    // A whole line whose last part, without spaces, is a version of the wrong length ("HTTP/1").
    const cr = buf.indexOf(CR, v);
    if (cr > v && cr + 1 < end && buf[cr + 1] === LF && !hasSpaceOrLF(buf, v, cr)) {
      throw new HttpError(400, 'ROCKET_ERR_BAD_VERSION', 'the HTTP-version is malformed');
    }
    throw badRequestLine(buf, Math.min(v + 8, end - 1), 'ROCKET_ERR_BAD_VERSION', 'the HTTP-version is malformed');
  }
  if (buf[v + 9] !== LF) throw bareCR();
  const major = buf[v + 5]! - 0x30;
  const minor = buf[v + 7]! - 0x30;
  if (
    buf[v] !== 0x48 || // H
    buf[v + 1] !== 0x54 || // T
    buf[v + 2] !== 0x54 || // T
    buf[v + 3] !== 0x50 || // P
    buf[v + 4] !== 0x2f || // /
    buf[v + 6] !== 0x2e || // .
    major < 0 ||
    major > 9 ||
    minor < 0 ||
    minor > 9
  ) {
    throw new HttpError(400, 'ROCKET_ERR_BAD_VERSION', 'the HTTP-version is malformed');
  }
  // Only HTTP/1.0 and HTTP/1.1 are served; any other well-formed version gets 505 (RFC 9110 §15.6.6).
  if (major !== 1 || minor > 1) {
    throw new HttpError(505, 'ROCKET_ERR_VERSION_NOT_SUPPORTED', `HTTP/${major}.${minor} is not supported`);
  }
  head.version = minor === 0 ? 10 : 11;
  checkTarget(head);
  return v + 10;
}

/**
 * Parse field lines (RFC 9112 §5) from `buf[i..end)`, each ending in CRLF, into `raw` as name,
 * value pairs. `s` is the latin1 text of `buf` from `base` on, for slicing. Shared by the header
 * section and the chunked trailer section.
 *
 * field-line = field-name ":" OWS field-value OWS
 *
 * `raw` may already hold fields: they count towards `maxFields`. With `head`, the fields that
 * decide framing are noted (and checked) on it as each line is read.
 *
 * @throws {HttpError} 400 for any malformed line, 431 past `maxFields` lines.
 */
export function parseFieldLines(
  buf: Buffer,
  i: number,
  end: number,
  s: string,
  base: number,
  raw: string[],
  maxFields: number,
  head: RequestHead | null = null,
): void {
  let count = raw.length / 2;
  let c = 0;
  while (i < end) {
    c = buf[i]!;
    if (c === SP || c === HTAB) throw obsFold();
    // field-name = token. Every line ends in CR, which is no tchar, so the loops need no bound.
    const nameStart = i;
    while (TCHAR[(c = buf[i]!)] === 1) i++;
    if (c !== 0x3a /* : */ || i === nameStart) {
      if (c === SP || c === HTAB) {
        // RFC 9112 §5.1: "A server MUST reject … any received request message that contains
        // whitespace between a header field name and colon with a response status code of 400".
        throw new HttpError(400, 'ROCKET_ERR_BAD_HEADER', 'whitespace between a header field name and the colon');
      }
      if (c === CR) throw buf[i + 1] === LF ? new HttpError(400, 'ROCKET_ERR_BAD_HEADER', 'header line without a colon') : bareCR();
      if (c === LF) throw bareLF();
      if (i === nameStart) throw new HttpError(400, 'ROCKET_ERR_BAD_HEADER', 'empty header field name');
      throw new HttpError(400, 'ROCKET_ERR_BAD_HEADER', 'invalid character in a header field name');
    }
    const name = internName(buf, nameStart, s, nameStart - base, i - base, nameSlot(i - nameStart, buf[nameStart]!, buf[i - 1]!));
    i++;
    while ((c = buf[i]!) === SP || c === HTAB) i++;
    const valueStart = i;
    // field-value: VCHAR, obs-text, SP and HTAB; never CR, LF, NUL or another control character.
    // (chars.ts's FIELD_VALUE as comparisons: faster than a table lookup for the longest runs of
    // bytes in a head.)
    while (((c = buf[i]!) >= 0x20 && c !== 0x7f) || c === HTAB) i++;
    if (c !== CR) {
      if (c === LF) throw bareLF();
      throw new HttpError(400, 'ROCKET_ERR_BAD_HEADER', c === 0 ? 'NUL byte in a header field value' : 'control character in a header field value');
    }
    if (buf[i + 1] !== LF) throw bareCR();
    let valueEnd = i;
    while (valueEnd > valueStart && ((c = buf[valueEnd - 1]!) === SP || c === HTAB)) valueEnd--;
    if (++count > maxFields) {
      throw new HttpError(431, 'ROCKET_ERR_TOO_MANY_HEADERS', `more than ${maxFields} header fields`);
    }
    const value = valueStart === valueEnd ? '' : s.slice(valueStart - base, valueEnd - base);
    raw.push(name, value);
    // Line by line, so that a bad framing field is refused at the same line whether the head
    // came whole or in pieces.
    if (head !== null) noteFramingField(head, name, value);
    i += 2;
  }
}

/**
 * Remember the fields that decide framing and persistence, matched case-insensitively. A second
 * Host, a Host that is not one, and a Content-Length that is not one are refused on their own
 * line, so a head that trickles in is refused at that line (see {@link checkIncomplete}).
 */
function noteFramingField(head: RequestHead, name: string, value: string): void {
  switch (name.length) {
    case 4:
      if (equalsLower(name, 'host')) {
        head.hostCount++;
        head.host = value;
        checkHostField(head);
      }
      break;
    case 6:
      if (equalsLower(name, 'expect')) head.expect = head.expect === null ? value : `${head.expect}, ${value}`;
      break;
    case 7:
      if (equalsLower(name, 'upgrade')) head.upgrade = value;
      break;
    case 10:
      if (equalsLower(name, 'connection')) (head.connection ??= []).push(value);
      break;
    case 14:
      if (equalsLower(name, 'content-length')) {
        (head.contentLength ??= []).push(value);
        // 1*DIGIT, all values equal (RFC 9110 §8.6); too many digits to be a length is 413.
        if (parseContentLength(head.contentLength) === Infinity) {
          throw new HttpError(413, 'ROCKET_ERR_BODY_TOO_LARGE', 'Content-Length is too large');
        }
      }
      break;
    case 17:
      if (equalsLower(name, 'transfer-encoding')) (head.transferEncoding ??= []).push(value);
      break;
  }
}

/**
 * `name.toLowerCase() === lower` for a token `name` and a `lower` of letters and dashes, without
 * making a string. (`c | 0x20` folds ASCII letters; for a dash it only also matches CR, which a
 * token cannot hold.)
 */
function equalsLower(name: string, lower: string): boolean {
  if (name === lower) return true;
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** RFC 9112 §3.2: which form the request-target takes, and whether the method allows it. */
function checkTarget(head: RequestHead): void {
  const t = head.target;
  const first = t.charCodeAt(0);
  if (first === 0x2f /* / */) {
    head.targetForm = 'origin';
    return;
  }
  if (t === '*') {
    // §3.2.4: asterisk-form is only used for a server-wide OPTIONS request.
    if (head.method !== 'OPTIONS') {
      throw new HttpError(400, 'ROCKET_ERR_BAD_TARGET', 'the asterisk-form target is only allowed with OPTIONS');
    }
    head.targetForm = 'asterisk';
    return;
  }
  if (head.method === 'CONNECT') {
    // §3.2.3: authority-form, only with CONNECT. The connection refuses CONNECT later (501).
    head.targetForm = 'authority';
    return;
  }
  // §3.2.2: absolute-form = absolute-URI: scheme ":" hier-part; we need "scheme://authority".
  const colon = t.indexOf('://');
  if (colon > 0 && isScheme(t, colon)) {
    let authorityEnd = colon + 3;
    while (authorityEnd < t.length && !'/?#'.includes(t[authorityEnd]!)) authorityEnd++;
    const authority = t.slice(colon + 3, authorityEnd);
    // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid; §4.2.4: userinfo is an error.
    if (authority === '' || authority.startsWith(':') || authority.includes('@') || !isHostValue(authority)) {
      throw new HttpError(400, 'ROCKET_ERR_BAD_TARGET', 'the absolute-form target has no valid host');
    }
    head.targetForm = 'absolute';
    return;
  }
  throw new HttpError(400, 'ROCKET_ERR_BAD_TARGET', 'the request-target is not in origin, absolute or asterisk form');
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )   (RFC 3986 §3.1) */
function isScheme(t: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = t.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !alpha : !(alpha || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) {
      return false;
    }
  }
  return true;
}

/**
 * RFC 9112 §3.2: "A server MUST respond with a 400 … to any HTTP/1.1 request message that lacks a
 * Host header field and to any request message that contains more than one Host header field line
 * or a Host header field with an invalid field value."
 */
function checkHost(head: RequestHead, required: boolean): void {
  if (head.hostCount === 0 && head.version === 11 && required) {
    throw new HttpError(400, 'ROCKET_ERR_BAD_HOST', 'HTTP/1.1 request without a Host header field');
  }
}

/** The Host field just read: the first one, and a valid value (the same RFC 9112 §3.2 rule). */
function checkHostField(head: RequestHead): void {
  if (head.hostCount > 1) throw new HttpError(400, 'ROCKET_ERR_BAD_HOST', 'more than one Host header field');
  if (!isHostValue(head.host!)) throw new HttpError(400, 'ROCKET_ERR_BAD_HOST', 'invalid Host header field value');
}

/** Host = uri-host [ ":" port ]: reg-name, IPv4 or an IP-literal in brackets; may be empty. */
export function isHostValue(h: string): boolean {
  let i = 0;
  const len = h.length;
  if (len === 0) return true;
  if (h.charCodeAt(0) === 0x5b /* [ */) {
    const close = h.indexOf(']');
    if (close < 2) return false;
    for (i = 1; i < close; i++) {
      const c = h.charCodeAt(i);
      const ok =
        (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) || c === 0x3a || c === 0x2e || (c | 0x20) === 0x76;
      if (!ok) return false;
    }
    i = close + 1;
  } else {
    // reg-name = *( unreserved / pct-encoded / sub-delims )
    for (; i < len; i++) {
      const c = h.charCodeAt(i);
      if (c === 0x3a) break;
      if (!REG_NAME[c]) return false;
    }
  }
  if (i === len) return true;
  if (h.charCodeAt(i) !== 0x3a) return false;
  for (i++; i < len; i++) {
    const c = h.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

const REG_NAME = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=") {
  REG_NAME[ch.charCodeAt(0)] = 1;
}

/**
 * The error for a request-line that breaks off at `buf[i]`: bare CR or LF when that is what
 * stopped it, a line ending too early, stray whitespace, or else a bad part (method, target,
 * version).
 */
function badRequestLine(buf: Buffer, i: number, code: HttpErrorCode, why: string): HttpError {
  const c = buf[i];
  if (c === LF) return bareLF();
  if (c === CR) {
    if (buf[i + 1] !== LF) return bareCR();
    return new HttpError(400, 'ROCKET_ERR_BAD_REQUEST_LINE', 'the request-line is incomplete');
  }
  if (c === SP || c === HTAB) return new HttpError(400, 'ROCKET_ERR_BAD_REQUEST_LINE', 'the request-line parts are not separated by single spaces');
  return new HttpError(400, code, why);
}

function hasSpaceOrLF(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c === SP || c === HTAB || c === LF) return true;
  }
  return false;
}

function obsFold(): HttpError {
  // RFC 9112 §5.2: obs-fold may be rejected with 400; we do, since joining lines is ambiguous.
  return new HttpError(400, 'ROCKET_ERR_OBS_FOLD', 'obsolete line folding (obs-fold) is not allowed');
}

function bareLF(): HttpError {
  // RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator; we don't, because a
  // proxy that does not would see different lines than we do.
  return new HttpError(400, 'ROCKET_ERR_BARE_LF', 'line terminated by a bare LF instead of CRLF');
}

function bareCR(): HttpError {
  // RFC 9112 §2.2: "A sender MUST NOT generate a bare CR … a recipient … MUST either consider the
  // element invalid or replace each bare CR with SP". We consider it invalid.
  return new HttpError(400, 'ROCKET_ERR_BARE_CR', 'bare CR in the request head');
}

function requestLineTooLong(limits: HeadLimits): HttpError {
  return new HttpError(414, 'ROCKET_ERR_REQUEST_LINE_TOO_LONG', `request-line longer than ${limits.maxRequestLine} bytes`);
}

function headerTooLarge(limits: HeadLimits): HttpError {
  return new HttpError(431, 'ROCKET_ERR_HEADER_TOO_LARGE', `header section larger than ${limits.maxHeaderSize} bytes`);
}
