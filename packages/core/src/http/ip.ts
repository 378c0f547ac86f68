/**
 * IP addresses as text and bytes, and CIDR lists: what the PROXY protocol and the trusted-proxy
 * checks need. Pure: no sockets, no `node:net`.
 */

/**
 * The 4 or 16 bytes of an IPv4 or IPv6 address in text, or null when the text is not one. IPv4 is
 * strict dotted-quad (no leading zeros, as RFC 6943 §3.1.1 advises: `010` would be octal to some
 * parsers and decimal to others). IPv6 may end in an IPv4 part and carry no zone.
 * @example
 * parseIp('10.0.0.1');  // Uint8Array [10, 0, 0, 1]
 * parseIp('::1');       // 16 bytes, the last one 1
 */
export function parseIp(text: string): Uint8Array | null {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

export function parseIPv6(text: string): Uint8Array | null {
  if (text.length > 45 || text.length < 2) return null;
  const bytes = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4(piece);
        if (v4 === null) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
      out.push(parseInt(piece, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  // An IPv4 part only ends the address.
  if (halves.length === 2 && head.length > 0 && halves[0]!.includes('.')) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  head.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  tail.forEach((g, i) => {
    const at = 16 - (tail.length - i) * 2;
    bytes[at] = g >> 8;
    bytes[at + 1] = g & 0xff;
  });
  return bytes;
}

/**
 * An address's bytes as text, the way Node reports socket addresses: dotted-quad for 4 bytes;
 * RFC 5952 for 16 (lower case, the longest run of two or more zero groups as `::`), with an
 * IPv4-mapped address as `::ffff:a.b.c.d`.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** One entry of an allow-list: an address and how many leading bits must match. */
interface Cidr {
  bytes: Uint8Array;
  bits: number;
}

/**
 * A list of addresses and networks (`127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`), or `*` for
 * every peer. An IPv4 entry also matches the same address mapped into IPv6 (`::ffff:10.1.2.3`),
 * which is how a dual-stack socket reports IPv4 clients.
 */
export class AddressList {
  readonly #entries: Cidr[];
  readonly #any: boolean;
  /** As given, for messages. */
  readonly text: string;

  private constructor(entries: Cidr[], any: boolean, text: string) {
    this.#entries = entries;
    this.#any = any;
    this.text = text;
  }

  /**
   * @param spec a comma-separated string or an array of entries.
   * @throws {Error} naming the first entry that is neither an address, a network nor `*`.
   * @example
   * AddressList.parse('127.0.0.1,10.0.0.0/8').has('10.2.3.4'); // true
   */
  static parse(spec: string | readonly string[]): AddressList {
    const items = (typeof spec === 'string' ? spec.split(',') : [...spec]).map((item) => String(item).trim()).filter((item) => item !== '');
    let any = false;
    const entries: Cidr[] = [];
    for (const item of items) {
      if (item === '*') {
        any = true;
        continue;
      }
      const slash = item.indexOf('/');
      const address = slash === -1 ? item : item.slice(0, slash);
      const bytes = parseIp(address);
      if (bytes === null) throw new Error(`${JSON.stringify(item)} is not an IP address, a network such as 10.0.0.0/8, or *`);
      let bits = bytes.length * 8;
      if (slash !== -1) {
        const prefix = item.slice(slash + 1);
        if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bytes.length * 8) throw new Error(`${JSON.stringify(item)} has a bad prefix length`);
        bits = Number(prefix);
      }
      entries.push({ bytes, bits });
    }
    return new AddressList(entries, any, items.join(','));
  }

  /** True when `address` (as a socket reports it) is in the list. */
  has(address: string): boolean {
    if (this.#any) return true;
    if (this.#entries.length === 0) return false;
    const bytes = parseIp(address);
    if (bytes === null) return false;
    let v4: Uint8Array | null = null;
    if (bytes.length === 16 && isMapped(bytes)) v4 = bytes.subarray(12);
    for (const entry of this.#entries) {
      if (matches(entry, bytes) || (v4 !== null && matches(entry, v4))) return true;
    }
    return false;
  }
}

function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function matches(entry: Cidr, bytes: Uint8Array): boolean {
  if (entry.bytes.length !== bytes.length) return false;
  let bits = entry.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((entry.bytes[i]! & mask) !== (bytes[i]! & mask)) return false;
  }
  return true;
}
