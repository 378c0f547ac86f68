/**
 * What a trusted proxy says about the client: `Forwarded` (RFC 7239), or the older
 * `X-Forwarded-For`, `-Proto` and `-Host`, applied to a gateway app's environ. Pure.
 *
 * Only a peer in `forwardedAllowIps` is believed; from anyone else the headers change nothing
 * (they stay visible as `HTTP_*`, as sent). Of the addresses a chain of proxies appended, the
 * client is the rightmost one that is not itself a trusted proxy: everything left of it was
 * written by a party nobody vouches for.
 */

import type { Environ } from './environ.js';
import { parseIp, type AddressList } from '../http/ip.js';

/** What the environ said about the connection before the forwarded headers were applied. */
export interface ForwardedOriginal {
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  'wsgi.url_scheme': 'http' | 'https';
  HTTP_HOST: string | undefined;
}

interface Hop {
  address: string | null;
  port: string | null;
  proto: string | null;
  host: string | null;
}

/**
 * Apply the forwarded headers of `environ`'s request, when its peer (`REMOTE_ADDR` as the
 * connection gives it; a UNIX socket's empty address counts as local, so trusted) is in
 * `trusted`: `REMOTE_ADDR` (and `REMOTE_PORT`: the port the header gives, else `0`),
 * `wsgi.url_scheme` and `HTTPS`, and `HTTP_HOST`. What was there before is kept under
 * `rocket.forwarded`. `Forwarded` wins over `X-Forwarded-*` when a request has both.
 * @returns true when anything was applied.
 * @example
 * // from 127.0.0.1, with X-Forwarded-For: 203.0.113.9 and X-Forwarded-Proto: https
 * applyForwarded(environ, AddressList.parse('127.0.0.1'));
 * environ.REMOTE_ADDR;         // '203.0.113.9'
 * environ['wsgi.url_scheme'];  // 'https'
 */
export function applyForwarded(environ: Environ, trusted: AddressList): boolean {
  const raw = environ['rocket.raw_headers'];
  let forwarded: string[] | null = null;
  let xfor: string[] | null = null;
  let xproto: string[] | null = null;
  let xhost: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap test first: almost no request has any of these.
    if (name.length < 9 || ((name.charCodeAt(0) | 0x20) !== 0x66 && (name.charCodeAt(0) | 0x20) !== 0x78)) continue;
    const lower = name.toLowerCase();
    if (lower === 'forwarded') (forwarded ??= []).push(raw[i + 1]!);
    else if (lower === 'x-forwarded-for') (xfor ??= []).push(raw[i + 1]!);
    else if (lower === 'x-forwarded-proto') (xproto ??= []).push(raw[i + 1]!);
    else if (lower === 'x-forwarded-host') (xhost ??= []).push(raw[i + 1]!);
  }
  if (forwarded === null && xfor === null && xproto === null && xhost === null) return false;
  // The peer is checked only for a request that carries such a header: parsing its address is
  // the costly part, and most requests have none.
  const peer = environ.REMOTE_ADDR;
  if (peer !== '' && !trusted.has(peer)) return false;
  let hop: Hop | null = null;
  if (forwarded !== null) hop = pickHop(parseForwarded(forwarded.join(',')), trusted);
  else if (xfor !== null || xproto !== null || xhost !== null) {
    const addresses = xfor === null ? [] : splitList(xfor.join(','));
    const hops: Hop[] = addresses.map((node) => ({ ...parseNode(node), proto: null, host: null }));
    const picked = hops.length === 0 ? { address: null, port: null, proto: null, host: null } : pickHop(hops, trusted)!;
    const index = hops.indexOf(picked);
    // Lists as long as X-Forwarded-For line up with it, hop for hop; otherwise the nearest
    // proxy's value is the one it vouches for.
    const aligned = (list: string[] | null) => {
      if (list === null) return null;
      const values = splitList(list.join(','));
      return (values.length === hops.length && index !== -1 ? values[index] : values[values.length - 1]) ?? null;
    };
    hop = { address: picked.address, port: picked.port, proto: aligned(xproto), host: aligned(xhost) };
  }
  if (hop === null) return false;
  const original: ForwardedOriginal = {
    REMOTE_ADDR: environ.REMOTE_ADDR,
    REMOTE_PORT: environ.REMOTE_PORT,
    'wsgi.url_scheme': environ['wsgi.url_scheme'],
    HTTP_HOST: environ.HTTP_HOST as string | undefined,
  };
  let applied = false;
  if (hop.address !== null) {
    environ.REMOTE_ADDR = hop.address;
    environ.REMOTE_PORT = hop.port ?? '0';
    applied = true;
  }
  const proto = hop.proto?.toLowerCase();
  if (proto === 'http' || proto === 'https') {
    environ['wsgi.url_scheme'] = proto;
    if (proto === 'https') environ.HTTPS = 'on';
    else delete environ.HTTPS;
    applied = true;
  }
  if (hop.host !== null && HOST.test(hop.host)) {
    environ.HTTP_HOST = hop.host;
    applied = true;
  }
  if (applied) environ['rocket.forwarded'] = original;
  return applied;
}

/** uri-host [ ":" port ] (RFC 9110 §7.2), without anything that could smuggle a path or a space. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?$/;

/** The rightmost hop whose address is not a trusted proxy; the leftmost when all are. */
function pickHop(hops: Hop[], trusted: AddressList): Hop | null {
  if (hops.length === 0) return null;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // An obfuscated or unknown node (RFC 7239 §6.2, §6.3) cannot be checked: it ends the walk,
    // and the connection's address stays.
    if (hop.address === null) return { ...hop, port: null };
    if (!trusted.has(hop.address)) return hop;
  }
  return hops[0]!;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * A node (RFC 7239 §6): `192.0.2.43`, `192.0.2.43:47011`, `[2001:db8::17]:4711`, `unknown`,
 * `_hidden`. X-Forwarded-For sends IPv6 bare too (`2001:db8::17`). Null address: not an IP.
 */
function parseNode(node: string): { address: string | null; port: string | null } {
  let address = node;
  let port: string | null = null;
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close === -1) return { address: null, port: null };
    address = node.slice(1, close);
    const rest = node.slice(close + 1);
    if (rest.startsWith(':')) port = rest.slice(1);
    else if (rest !== '') return { address: null, port: null };
  } else if (node.indexOf(':') !== -1 && node.indexOf(':') === node.lastIndexOf(':')) {
    address = node.slice(0, node.indexOf(':'));
    port = node.slice(node.indexOf(':') + 1);
  }
  if (parseIp(address) === null) return { address: null, port: null };
  if (port !== null && !/^\d{1,5}$/.test(port)) port = null;
  return { address, port };
}

/**
 * `Forwarded` elements, each a `;`-separated list of `token=value` pairs, values tokens or
 * quoted-strings (RFC 7239 §4). A malformed element yields an empty hop, which ends the walk.
 */
function parseForwarded(text: string): Hop[] {
  const hops: Hop[] = [];
  let hop: Hop = { address: null, port: null, proto: null, host: null };
  let sawFor = false;
  let i = 0;
  const end = () => {
    if (!sawFor) hop.address = null;
    hops.push(hop);
    hop = { address: null, port: null, proto: null, host: null };
    sawFor = false;
  };
  while (i < text.length) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    const eq = text.indexOf('=', i);
    if (eq === -1) break;
    const name = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value: string;
    if (text[i] === '"') {
      let out = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        out += text[i] ?? '';
        i++;
      }
      i++;
      value = out;
    } else {
      const stop = text.slice(i).search(/[;,]/);
      value = (stop === -1 ? text.slice(i) : text.slice(i, i + stop)).trim();
      i = stop === -1 ? text.length : i + stop;
    }
    if (name === 'for') {
      const node = parseNode(value);
      hop.address = node.address;
      hop.port = node.port;
      sawFor = true;
    } else if (name === 'proto') hop.proto = value;
    else if (name === 'host') hop.host = value;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === ';') i++;
    else if (text[i] === ',') {
      i++;
      end();
    }
  }
  end();
  // A header with nothing but whitespace is no element at all.
  return hops.filter((h, index) => index < hops.length - 1 || h.address !== null || h.proto !== null || h.host !== null || hops.length === 1);
}
