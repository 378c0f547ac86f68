/**
 * Address lists and the forwarded headers: who is believed, which address of a chain is the
 * client, and what a gateway app's environ says afterwards.
 */

import { describe, expect, test } from 'vitest';
import { applyForwarded } from '../../src/gateway/forwarded.js';
import { AddressList, formatIp, parseIp } from '../../src/http/ip.js';
import type { Environ } from '../../src/gateway/environ.js';

function environ(peer: string, headers: [string, string][], secure = false): Environ {
  const env: Record<string, unknown> = {
    REMOTE_ADDR: peer,
    REMOTE_PORT: '40000',
    'wsgi.url_scheme': secure ? 'https' : 'http',
    HTTP_HOST: 'backend:8000',
    'rocket.raw_headers': headers.flat(),
  };
  if (secure) env.HTTPS = 'on';
  return env as unknown as Environ;
}

const LOOPBACK = AddressList.parse('127.0.0.1,::1');

describe('AddressList', () => {
  test('addresses, networks, IPv4 mapped into IPv6, and *', () => {
    const list = AddressList.parse(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
    expect(list.has('10.200.3.4')).toBe(true);
    expect(list.has('11.0.0.1')).toBe(false);
    expect(list.has('::ffff:10.1.2.3')).toBe(true);
    expect(list.has('192.168.1.7')).toBe(true);
    expect(list.has('192.168.1.8')).toBe(false);
    expect(list.has('fd12:3456::1')).toBe(true);
    expect(list.has('fe80::1')).toBe(false);
    expect(list.has('::1')).toBe(true);
    expect(list.has('not an address')).toBe(false);
    expect(AddressList.parse('*').has('203.0.113.9')).toBe(true);
    expect(AddressList.parse('').has('127.0.0.1')).toBe(false);
    expect(AddressList.parse('172.16.0.0/12').has('172.31.255.255')).toBe(true);
    expect(AddressList.parse('172.16.0.0/12').has('172.32.0.0')).toBe(false);
  });

  test('a bad entry is named', () => {
    expect(() => AddressList.parse('127.0.0.1,localhost')).toThrow('"localhost" is not an IP address');
    expect(() => AddressList.parse('10.0.0.0/33')).toThrow('"10.0.0.0/33" has a bad prefix length');
  });

  test('IPv6 text round-trips in RFC 5952 form', () => {
    for (const [input, shown] of [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::', '::'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ]) {
      expect(formatIp(parseIp(input!)!)).toBe(shown);
    }
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '::1.2.3', '12345::', ':1', '1.2.3.4::']) expect(parseIp(bad), bad).toBeNull();
  });
});

describe('X-Forwarded-*', () => {
  test('from a trusted peer: client address, scheme and host', () => {
    const env = environ('127.0.0.1', [
      ['X-Forwarded-For', '203.0.113.9'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'shop.example'],
    ]);
    expect(applyForwarded(env, LOOPBACK)).toBe(true);
    expect(env.REMOTE_ADDR).toBe('203.0.113.9');
    expect(env.REMOTE_PORT).toBe('0');
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTPS).toBe('on');
    expect(env.HTTP_HOST).toBe('shop.example');
    expect(env['rocket.forwarded']).toEqual({ REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '40000', 'wsgi.url_scheme': 'http', HTTP_HOST: 'backend:8000' });
  });

  test('from an untrusted peer: nothing changes', () => {
    const env = environ('192.0.2.50', [
      ['X-Forwarded-For', '203.0.113.9'],
      ['X-Forwarded-Proto', 'https'],
    ]);
    expect(applyForwarded(env, LOOPBACK)).toBe(false);
    expect(env.REMOTE_ADDR).toBe('192.0.2.50');
    expect(env['wsgi.url_scheme']).toBe('http');
    expect(env['rocket.forwarded']).toBeUndefined();
  });

  test('a chain: the rightmost address that is not a trusted proxy; spoofed entries to its left are ignored', () => {
    const trusted = AddressList.parse('127.0.0.1,10.0.0.0/8');
    const env = environ('127.0.0.1', [['X-Forwarded-For', '6.6.6.6, 203.0.113.9'], ['x-forwarded-for', '10.0.0.2']]);
    applyForwarded(env, trusted);
    expect(env.REMOTE_ADDR).toBe('203.0.113.9');
    // Every hop trusted: the leftmost.
    const inside = environ('127.0.0.1', [['X-Forwarded-For', '10.1.1.1, 10.0.0.2']]);
    applyForwarded(inside, trusted);
    expect(inside.REMOTE_ADDR).toBe('10.1.1.1');
  });

  test('garbage stops the walk; a bad proto or host is ignored', () => {
    const env = environ('::1', [
      ['X-Forwarded-For', 'unknown'],
      ['X-Forwarded-Proto', 'gopher'],
      ['X-Forwarded-Host', 'evil.example/path with space'],
    ]);
    expect(applyForwarded(env, LOOPBACK)).toBe(false);
    expect(env.REMOTE_ADDR).toBe('::1');
    expect(env.HTTP_HOST).toBe('backend:8000');
  });

  test('https → http through a trusted proxy drops HTTPS', () => {
    const env = environ('127.0.0.1', [['X-Forwarded-Proto', 'http']], true);
    applyForwarded(env, LOOPBACK);
    expect(env['wsgi.url_scheme']).toBe('http');
    expect(env.HTTPS).toBeUndefined();
  });

  test('IPv6 and bracketed addresses with ports', () => {
    const env = environ('127.0.0.1', [['X-Forwarded-For', '2001:db8::17']]);
    applyForwarded(env, LOOPBACK);
    expect(env.REMOTE_ADDR).toBe('2001:db8::17');
    const bracketed = environ('127.0.0.1', [['X-Forwarded-For', '[2001:db8::17]:4711']]);
    applyForwarded(bracketed, LOOPBACK);
    expect([bracketed.REMOTE_ADDR, bracketed.REMOTE_PORT]).toEqual(['2001:db8::17', '4711']);
  });

  test('a UNIX socket peer (no address) is local, so trusted', () => {
    const env = environ('', [['X-Forwarded-For', '203.0.113.9']]);
    applyForwarded(env, LOOPBACK);
    expect(env.REMOTE_ADDR).toBe('203.0.113.9');
  });
});

describe('Forwarded (RFC 7239)', () => {
  test('for, proto and host of the client hop, quoted IPv6 with a port', () => {
    const env = environ('127.0.0.1', [['Forwarded', 'for="[2001:db8:cafe::17]:4711";proto=https;host=shop.example']]);
    applyForwarded(env, LOOPBACK);
    expect([env.REMOTE_ADDR, env.REMOTE_PORT, env['wsgi.url_scheme'], env.HTTP_HOST]).toEqual(['2001:db8:cafe::17', '4711', 'https', 'shop.example']);
  });

  test('several elements: the rightmost untrusted; wins over X-Forwarded-For', () => {
    const env = environ('127.0.0.1', [
      ['Forwarded', 'for=6.6.6.6;proto=http, for=192.0.2.60;proto=https, for=127.0.0.1'],
      ['X-Forwarded-For', '198.51.100.1'],
    ]);
    applyForwarded(env, LOOPBACK);
    expect(env.REMOTE_ADDR).toBe('192.0.2.60');
    expect(env['wsgi.url_scheme']).toBe('https');
  });

  test('obfuscated and unknown nodes keep the connection address', () => {
    for (const value of ['for=_hidden', 'for=unknown', 'by=10.0.0.1']) {
      const env = environ('127.0.0.1', [['Forwarded', value]]);
      applyForwarded(env, LOOPBACK);
      expect(env.REMOTE_ADDR, value).toBe('127.0.0.1');
    }
  });
});
