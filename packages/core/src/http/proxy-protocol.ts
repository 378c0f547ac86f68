/**
 * The PROXY protocol, versions 1 and 2 (HAProxy's "proxy-protocol.txt"): the header a load
 * balancer sends before anything else on a connection, carrying the client's address. Pure: bytes
 * in, a header, "need more" or an error out.
 *
 *   v1  "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n"          text, at most 107 bytes
 *   v2  \r\n\r\n\0\r\nQUIT\n  ver|cmd  fam|proto  len(2)  addresses  TLVs      binary
 */

import { formatIp, parseIPv4, parseIPv6 } from './ip.js';

/** Which versions an interface accepts. */
export type ProxyProtocolMode = 'v1' | 'v2' | 'auto';

/** An endpoint the header names. */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * `proxy`: the addresses are the client's and the proxy's. `local`: the proxy speaks for itself
   * (its health checks, v2 only), and the connection's own addresses stand.
   */
  command: 'proxy' | 'local';
  /** `unknown` (v1 UNKNOWN, v2 AF_UNSPEC) and `unix` carry no address the server uses. */
  family: 'tcp4' | 'tcp6' | 'unix' | 'unknown';
  /** The client; null for `local`, `unknown` and `unix`. */
  source: ProxyEndpoint | null;
  /** The address the client connected to on the proxy; null as for `source`. */
  destination: ProxyEndpoint | null;
  /** Bytes the header took: what follows is the client's own data. */
  length: number;
}

export type ProxyParseResult = { kind: 'header'; header: ProxyHeader } | { kind: 'need-more' } | { kind: 'error'; reason: string };

/** The v1 header's longest form, CRLF included (proxy-protocol.txt §2.1). */
export const V1_MAX_LENGTH = 107;
/** The v2 signature (§2.2). */
export const V2_SIGNATURE = Uint8Array.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Uint8Array.from([0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]); // "PROXY "
const V2_FIXED = 16;

const NEED_MORE: ProxyParseResult = { kind: 'need-more' };

/**
 * Does `data` start like a PROXY header of either version? `need-more` while the bytes so far are
 * a prefix of one. Used on connections from peers that may not send one, to refuse a header they
 * send anyway.
 */
export function detectProxyHeader(data: Uint8Array): 'proxy' | 'not-proxy' | 'need-more' {
  const v1 = prefixState(data, V1_PREFIX);
  const v2 = prefixState(data, V2_SIGNATURE);
  if (v1 === 'match' || v2 === 'match') return 'proxy';
  if (v1 === 'partial' || v2 === 'partial') return 'need-more';
  return 'not-proxy';
}

function prefixState(data: Uint8Array, prefix: Uint8Array): 'match' | 'partial' | 'no' {
  const n = Math.min(data.length, prefix.length);
  for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return 'no';
  return n === prefix.length ? 'match' : 'partial';
}

/**
 * Parse the PROXY header at the start of `data`, which holds every byte received so far.
 * `mode` says which versions are accepted; anything else at the start of the connection is an
 * error, since a peer configured to send a header always sends one.
 * @example
 * parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET /'), 'v1');
 * // { kind: 'header', header: { version: 1, command: 'proxy', family: 'tcp4',
 * //   source: { address: '203.0.113.7', port: 56324 }, destination: { address: '192.0.2.1', port: 443 }, length: 44 } }
 */
export function parseProxyHeader(data: Uint8Array, mode: ProxyProtocolMode): ProxyParseResult {
  if (data.length === 0) return NEED_MORE;
  const v1 = mode !== 'v2' ? prefixState(data, V1_PREFIX) : 'no';
  const v2 = mode !== 'v1' ? prefixState(data, V2_SIGNATURE) : 'no';
  if (v1 === 'match') return parseV1(data);
  if (v2 === 'match') return parseV2(data);
  if (v1 === 'partial' || v2 === 'partial') return NEED_MORE;
  return error(mode === 'auto' ? 'the connection does not start with a PROXY header' : `the connection does not start with a PROXY ${mode} header`);
}

function error(reason: string): ProxyParseResult {
  return { kind: 'error', reason };
}

// ---- v1 ----

function parseV1(data: Uint8Array): ProxyParseResult {
  const limit = Math.min(data.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const c = data[i]!;
    if (c === 0x0d) {
      // The LF would be byte 108.
      if (i + 1 >= V1_MAX_LENGTH) return error('the v1 header is longer than 107 bytes');
      if (i + 1 >= data.length) return NEED_MORE;
      if (data[i + 1] !== 0x0a) return error('the v1 header has a CR without LF');
      end = i;
      break;
    }
    // Printable US-ASCII only: a bare LF, a NUL or a byte ≥ 0x80 is not a v1 header.
    if (c < 0x20 || c > 0x7e) return error('the v1 header holds a byte that is not printable US-ASCII (or lacks its CRLF)');
  }
  if (end === -1) return data.length >= V1_MAX_LENGTH ? error('the v1 header is longer than 107 bytes') : NEED_MORE;
  const line = String.fromCharCode(...data.subarray(V1_PREFIX.length, end));
  const length = end + 2;
  const fields = line.split(' ');
  const protocol = fields[0];
  if (protocol === 'UNKNOWN') {
    // §2.1: "the receiver must ignore anything presented before the CRLF is found".
    return { kind: 'header', header: { version: 1, command: 'proxy', family: 'unknown', source: null, destination: null, length } };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return error(`the v1 header names protocol ${JSON.stringify(protocol ?? '')}, not TCP4, TCP6 or UNKNOWN`);
  // Exactly one space between fields: an empty field is a doubled space.
  if (fields.length !== 5) return error('the v1 header does not have five single-space-separated fields');
  const parse = protocol === 'TCP4' ? parseIPv4 : parseIPv6;
  const source = parse(fields[1]!);
  const destination = parse(fields[2]!);
  if (source === null || destination === null) return error(`the v1 header's addresses are not ${protocol === 'TCP4' ? 'IPv4' : 'IPv6'} addresses`);
  const sourcePort = parsePort(fields[3]!);
  const destinationPort = parsePort(fields[4]!);
  if (sourcePort === null || destinationPort === null) return error("the v1 header's ports are not numbers from 0 to 65535");
  return {
    kind: 'header',
    header: {
      version: 1,
      command: 'proxy',
      family: protocol === 'TCP4' ? 'tcp4' : 'tcp6',
      source: { address: formatIp(source), port: sourcePort },
      destination: { address: formatIp(destination), port: destinationPort },
      length,
    },
  };
}

/** A decimal port, without leading zeros (§2.1 shows none, and `0080` would be ambiguous). */
function parsePort(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

// ---- v2 ----

const AF_UNSPEC = 0x0;
const AF_INET = 0x1;
const AF_INET6 = 0x2;
const AF_UNIX = 0x3;
const STREAM = 0x1;
const DGRAM = 0x2;
/** Bytes of the address block per family (§2.2). */
const ADDRESS_LENGTH = [0, 12, 36, 216];

function parseV2(data: Uint8Array): ProxyParseResult {
  if (data.length < V2_FIXED) return NEED_MORE;
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return error(`the v2 header has version ${versionCommand >> 4}, not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) return error(`the v2 header has command ${command}, neither LOCAL (0) nor PROXY (1)`);
  const familyProtocol = data[13]!;
  const family = familyProtocol >> 4;
  const transport = familyProtocol & 0x0f;
  if (family > AF_UNIX) return error(`the v2 header has address family ${family}`);
  if (transport > DGRAM) return error(`the v2 header has transport protocol ${transport}`);
  const blockLength = (data[14]! << 8) | data[15]!;
  const length = V2_FIXED + blockLength;
  // §2.2: the length covers the addresses; what is left after them are TLVs, skipped here. Known
  // before the bytes arrive, so a short block is refused without waiting for it.
  if (command === 1 && blockLength < ADDRESS_LENGTH[family]!) return error(`the v2 header's length ${blockLength} is too short for its addresses`);
  if (data.length < length) return NEED_MORE;
  const none = { version: 2 as const, source: null, destination: null, length };
  if (command === 0) return { kind: 'header', header: { ...none, command: 'local', family: family === AF_INET ? 'tcp4' : family === AF_INET6 ? 'tcp6' : family === AF_UNIX ? 'unix' : 'unknown' } };
  if (family === AF_UNSPEC || transport === 0) return { kind: 'header', header: { ...none, command: 'proxy', family: 'unknown' } };
  // A datagram relayed over a stream is not an HTTP connection.
  if (transport !== STREAM) return error('the v2 header announces a datagram (DGRAM) connection');
  if (family === AF_UNIX) return { kind: 'header', header: { ...none, command: 'proxy', family: 'unix' } };
  const size = family === AF_INET ? 4 : 16;
  const at = V2_FIXED;
  const port = (offset: number) => (data[offset]! << 8) | data[offset + 1]!;
  return {
    kind: 'header',
    header: {
      version: 2,
      command: 'proxy',
      family: family === AF_INET ? 'tcp4' : 'tcp6',
      source: { address: formatIp(data.subarray(at, at + size)), port: port(at + 2 * size) },
      destination: { address: formatIp(data.subarray(at + size, at + 2 * size)), port: port(at + 2 * size + 2) },
      length,
    },
  };
}
