/**
 * The PROXY protocol parser against vectors from HAProxy's proxy-protocol.txt, byte-split
 * deliveries, and random input (fast-check): every outcome is a header, "need more" or an error
 * value, and delivering the bytes in pieces never changes the outcome.
 */

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { detectProxyHeader, parseProxyHeader, V2_SIGNATURE, type ProxyParseResult } from '../../src/http/proxy-protocol.js';

const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1));
const RUN = { numRuns: 400 * SCALE, interruptAfterTimeLimit: 1200 * SCALE } as const;

const text = (s: string) => Buffer.from(s, 'latin1');

function v2(command: number, family: number, addresses: number[], tlvs: number[] = []): Buffer {
  const body = [...addresses, ...tlvs];
  return Buffer.from([...V2_SIGNATURE, 0x20 | command, family, body.length >> 8, body.length & 0xff, ...body]);
}

const INET_BLOCK = [203, 0, 113, 7, 192, 0, 2, 1, 0xdc, 0x04, 0x01, 0xbb]; // 203.0.113.7:56324 → 192.0.2.1:443
const INET6_BLOCK = [
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x17, // 2001:db8::17
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // ::1
  0x12, 0x6f, 0x00, 0x50, // 4719 → 80
];

/** Feed `data` in the pieces `cuts` gives and report the first outcome that is not need-more. */
function fed(data: Uint8Array, cuts: number[], mode: 'v1' | 'v2' | 'auto'): ProxyParseResult {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  for (const point of [...points, data.length]) {
    const result = parseProxyHeader(data.subarray(0, point), mode);
    if (result.kind !== 'need-more') return result;
  }
  return { kind: 'need-more' };
}

describe('v1', () => {
  test('TCP4: the addresses and ports, and the length consumed', () => {
    const data = text('PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET / HTTP/1.1\r\n');
    const result = parseProxyHeader(data, 'v1');
    expect(result).toEqual({
      kind: 'header',
      header: {
        version: 1,
        command: 'proxy',
        family: 'tcp4',
        source: { address: '203.0.113.7', port: 56324 },
        destination: { address: '192.0.2.1', port: 443 },
        length: 44,
      },
    });
    expect(data.subarray(44).toString()).toBe('GET / HTTP/1.1\r\n');
  });

  test('TCP6: addresses in the form sockets report them', () => {
    const result = parseProxyHeader(text('PROXY TCP6 2001:DB8:0:0:0:0:0:17 ::ffff:10.0.0.1 4719 80\r\n'), 'auto');
    expect(result.kind === 'header' && result.header.source).toEqual({ address: '2001:db8::17', port: 4719 });
    expect(result.kind === 'header' && result.header.destination).toEqual({ address: '::ffff:10.0.0.1', port: 80 });
  });

  test('UNKNOWN: anything up to the CRLF is ignored, no address', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n']) {
      const result = parseProxyHeader(text(line), 'v1');
      expect(result).toEqual({ kind: 'header', header: { version: 1, command: 'proxy', family: 'unknown', source: null, destination: null, length: line.length } });
    }
  });

  test('the longest header, 107 bytes, is accepted; one byte more is not', () => {
    const longest = `PROXY UNKNOWN ${'f'.repeat(107 - 16)}\r\n`;
    expect(longest.length).toBe(107);
    expect(parseProxyHeader(text(longest), 'v1').kind).toBe('header');
    const tooLong = `PROXY UNKNOWN ${'f'.repeat(108 - 16)}\r\n`;
    expect(parseProxyHeader(text(tooLong), 'v1')).toMatchObject({ kind: 'error', reason: expect.stringContaining('107') });
    // Without a CRLF in the first 107 bytes, the header is refused without waiting for more.
    expect(parseProxyHeader(text(`PROXY TCP4 ${'1'.repeat(120)}`), 'v1').kind).toBe('error');
  });

  test('missing or broken CRLF, bad fields', () => {
    const bad = [
      'PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\rX',
      'PROXY TCP4 203.0.113.7  192.0.2.1 56324 443\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 56324 443 1\r\n',
      'PROXY TCP4 203.0.113.256 192.0.2.1 56324 443\r\n',
      'PROXY TCP4 2001:db8::1 192.0.2.1 56324 443\r\n',
      'PROXY TCP6 203.0.113.7 ::1 56324 443\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 65536 443\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 0443 443\r\n',
      'PROXY TCP4 010.0.0.1 192.0.2.1 1 2\r\n',
      'PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n',
      'PROXY tcp4 203.0.113.7 192.0.2.1 1 2\r\n',
      'PROXY \r\n',
    ];
    for (const line of bad) expect(parseProxyHeader(text(line), 'auto'), JSON.stringify(line)).toMatchObject({ kind: 'error' });
  });

  test('a connection that does not start with a header is refused; a prefix waits', () => {
    expect(parseProxyHeader(text('GET / HTTP/1.1\r\n'), 'v1').kind).toBe('error');
    expect(parseProxyHeader(text('PROX'), 'v1').kind).toBe('need-more');
    expect(parseProxyHeader(text('PROXY TCP4 1.2.3.4'), 'v1').kind).toBe('need-more');
    // A v2 header on a v1 interface, and the reverse.
    expect(parseProxyHeader(v2(1, 0x11, INET_BLOCK), 'v1').kind).toBe('error');
    expect(parseProxyHeader(text('PROXY UNKNOWN\r\n'), 'v2').kind).toBe('error');
  });
});

describe('v2', () => {
  test('PROXY over AF_INET/STREAM', () => {
    const data = Buffer.concat([v2(1, 0x11, INET_BLOCK), text('GET /')]);
    expect(parseProxyHeader(data, 'v2')).toEqual({
      kind: 'header',
      header: {
        version: 2,
        command: 'proxy',
        family: 'tcp4',
        source: { address: '203.0.113.7', port: 56324 },
        destination: { address: '192.0.2.1', port: 443 },
        length: 28,
      },
    });
  });

  test('PROXY over AF_INET6, with TLVs after the addresses skipped', () => {
    // PP2_TYPE_ALPN "h2", PP2_TYPE_AUTHORITY "example.com", a NOOP.
    const tlvs = [0x01, 0, 2, 0x68, 0x32, 0x02, 0, 11, ...text('example.com'), 0x04, 0, 0];
    const data = v2(1, 0x21, INET6_BLOCK, tlvs);
    const result = parseProxyHeader(data, 'auto');
    expect(result).toMatchObject({ kind: 'header', header: { family: 'tcp6', source: { address: '2001:db8::17', port: 4719 }, destination: { address: '::1', port: 80 }, length: data.length } });
  });

  test('LOCAL: no addresses used, whatever the block holds', () => {
    expect(parseProxyHeader(v2(0, 0x00, []), 'v2')).toEqual({ kind: 'header', header: { version: 2, command: 'local', family: 'unknown', source: null, destination: null, length: 16 } });
    expect(parseProxyHeader(v2(0, 0x11, INET_BLOCK), 'v2')).toMatchObject({ kind: 'header', header: { command: 'local', source: null, length: 28 } });
  });

  test('AF_UNSPEC and AF_UNIX carry no usable address', () => {
    expect(parseProxyHeader(v2(1, 0x00, []), 'v2')).toMatchObject({ kind: 'header', header: { command: 'proxy', family: 'unknown', source: null } });
    const unix = v2(1, 0x31, Array.from({ length: 216 }, () => 0));
    expect(parseProxyHeader(unix, 'v2')).toMatchObject({ kind: 'header', header: { family: 'unix', source: null, length: 232 } });
  });

  test('bad version, command, family, transport and lengths are refused', () => {
    const base = v2(1, 0x11, INET_BLOCK);
    const withByte = (at: number, value: number) => {
      const copy = Buffer.from(base);
      copy[at] = value;
      return copy;
    };
    expect(parseProxyHeader(withByte(12, 0x11), 'v2')).toMatchObject({ kind: 'error', reason: expect.stringContaining('version 1') });
    expect(parseProxyHeader(withByte(12, 0x22), 'v2')).toMatchObject({ kind: 'error', reason: expect.stringContaining('command 2') });
    expect(parseProxyHeader(withByte(13, 0x41), 'v2')).toMatchObject({ kind: 'error', reason: expect.stringContaining('family 4') });
    expect(parseProxyHeader(withByte(13, 0x13), 'v2')).toMatchObject({ kind: 'error', reason: expect.stringContaining('transport') });
    expect(parseProxyHeader(withByte(13, 0x12), 'v2')).toMatchObject({ kind: 'error', reason: expect.stringContaining('DGRAM') });
    // A block too short for its family's addresses, refused before it arrives.
    expect(parseProxyHeader(withByte(15, 11).subarray(0, 16), 'v2')).toMatchObject({ kind: 'error', reason: expect.stringContaining('too short') });
    expect(parseProxyHeader(v2(1, 0x21, INET_BLOCK), 'v2').kind).toBe('error');
    // A longer length waits for the bytes it announces.
    expect(parseProxyHeader(withByte(15, 40), 'v2').kind).toBe('need-more');
    // A broken signature is no header at all.
    expect(parseProxyHeader(withByte(11, 0x0b), 'v2').kind).toBe('error');
  });
});

describe('split across reads', () => {
  const vectors: [string, Buffer][] = [
    ['v1 TCP4', text('PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET')],
    ['v1 TCP6', text('PROXY TCP6 2001:db8::17 ::1 4719 80\r\n')],
    ['v2 INET', v2(1, 0x11, INET_BLOCK)],
    ['v2 INET6 + TLV', v2(1, 0x21, INET6_BLOCK, [0x04, 0, 3, 1, 2, 3])],
  ];
  test.each(vectors)('%s: every byte boundary gives the same header', (_, data) => {
    const whole = parseProxyHeader(data, 'auto');
    expect(whole.kind).toBe('header');
    for (let cut = 0; cut <= data.length; cut++) expect(fed(data, [cut], 'auto')).toEqual(whole);
    expect(fed(data, Array.from({ length: data.length }, (_, i) => i), 'auto')).toEqual(whole);
  });
});

describe('detectProxyHeader (peers that may not send one)', () => {
  test('HTTP is told apart at the first byte that differs', () => {
    expect(detectProxyHeader(text('GET / HTTP/1.1\r\n'))).toBe('not-proxy');
    expect(detectProxyHeader(text('P'))).toBe('need-more');
    expect(detectProxyHeader(text('POST /'))).toBe('not-proxy');
    expect(detectProxyHeader(text('PROXY '))).toBe('proxy');
    expect(detectProxyHeader(text('\r\n'))).toBe('need-more');
    expect(detectProxyHeader(text('\r\nGET'))).toBe('not-proxy');
    expect(detectProxyHeader(V2_SIGNATURE)).toBe('proxy');
  });
});

describe('fuzz', () => {
  const outcome = (result: ProxyParseResult) => {
    expect(['header', 'need-more', 'error']).toContain(result.kind);
    if (result.kind === 'header') {
      expect(result.header.length).toBeGreaterThan(0);
      if (result.header.source !== null) {
        expect(result.header.source.port).toBeGreaterThanOrEqual(0);
        expect(result.header.source.port).toBeLessThanOrEqual(65535);
      }
    }
    if (result.kind === 'error') expect(result.reason.length).toBeGreaterThan(0);
  };
  const mode = fc.constantFrom('v1' as const, 'v2' as const, 'auto' as const);

  test('random bytes after either prefix: a value, never a throw, and the same in pieces', () => {
    const prefix = fc.constantFrom(text('PROXY '), text('PROXY TCP4 '), text('PROXY TCP6 '), Buffer.from(V2_SIGNATURE), Buffer.from([...V2_SIGNATURE, 0x21, 0x11]));
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 140 }), mode, fc.array(fc.nat(), { maxLength: 6 }), (head, tail, m, cuts) => {
        const data = Buffer.concat([head, tail]);
        const whole = parseProxyHeader(data, m);
        outcome(whole);
        const pieces = fed(data, cuts, m);
        if (whole.kind === 'header') expect(pieces).toEqual(whole);
        else expect(pieces.kind).toBe(whole.kind);
      }),
      RUN,
    );
  });

  test('mutated valid headers: a value, never a throw', () => {
    const valid = fc.constantFrom(
      text('PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n'),
      text('PROXY TCP6 2001:db8::17 ::1 4719 80\r\n'),
      v2(1, 0x11, INET_BLOCK),
      v2(1, 0x21, INET6_BLOCK, [1, 0, 1, 0x61]),
    );
    fc.assert(
      fc.property(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), mode, (data, edits, m) => {
        const copy = Buffer.from(data);
        for (const [at, value] of edits) copy[at % copy.length] = value;
        outcome(parseProxyHeader(copy, m));
      }),
      RUN,
    );
  });

  test('generated v1 TCP4 lines round-trip', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const port = fc.integer({ min: 0, max: 65535 });
    fc.assert(
      fc.property(ip, ip, port, port, (src, dst, sp, dp) => {
        const result = parseProxyHeader(text(`PROXY TCP4 ${src} ${dst} ${sp} ${dp}\r\n`), 'v1');
        expect(result).toMatchObject({ kind: 'header', header: { source: { address: src, port: sp }, destination: { address: dst, port: dp } } });
      }),
      RUN,
    );
  });
});
