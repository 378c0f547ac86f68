/**
 * Construction, start, addresses, stop and restart.
 */

import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { Rocket, RocketError } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { serve, textApp } from '../helpers/server.js';

const app = textApp('hi');

/** A port that was free a moment ago. */
async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const hasIPv6 = await new Promise<boolean>((resolve) => {
  const server = net.createServer();
  server.once('error', () => resolve(false));
  server.listen(0, '::1', () => server.close(() => resolve(true)));
});

describe('construction checks its arguments', () => {
  test.each([
    ['a port out of range', ['127.0.0.1', 70000], /port 70000/],
    ['a three-element interface', ['127.0.0.1', 80, 'key.pem'], /2 elements/],
    ['a host that is not a string', [1, 80], /host must be a string/],
    ['an empty list', [], /non-empty list/],
  ])('%s', (_name, interfaces, message) => {
    expect(() => new Rocket(interfaces, 'wsgi', { wsgi_app: app })).toThrow(message);
  });

  test('an unknown option, naming it', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { maxThread: 1 } as never)).toThrow(/unknown option "maxThread"/);
  });

  test('a bad option value, naming option and value', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { socketTimeout: -1 })).toThrow(
      /option socketTimeout must be a number of seconds ≥ 0 \(got -1\)/,
    );
  });

  test('an app that is not a function', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: 'nope' as never })).toThrow(RocketError);
  });

  test('an unknown method', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'cgi', { wsgi_app: app })).toThrow(/unknown method "cgi"/);
  });

  test('a port given as a numeric string is accepted', () => {
    expect(new Rocket(['127.0.0.1', '8080'], 'wsgi', { wsgi_app: app }).interfaces[0]!.port).toBe(8080);
  });
});

describe('start', () => {
  test('port 0 reports the real port in addresses', async () => {
    const { server, port } = await serve(app);
    expect(port).toBeGreaterThan(0);
    expect(server.addresses).toEqual([{ host: '127.0.0.1', port, secure: false, family: 'IPv4' }]);
  });

  test('an interface that cannot bind rejects naming it, and leaves nothing half-bound', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const free = await freePort();
    const server = new Rocket([['127.0.0.1', free], ['127.0.0.1', taken]], 'wsgi', { wsgi_app: app });
    const error = (await server.start().catch((e: unknown) => e)) as RocketError;
    expect(error).toBeInstanceOf(RocketError);
    expect(error.code).toBe('ROCKET_ERR_BIND');
    expect(error.message).toContain(`127.0.0.1:${taken}`);
    expect(error.message).toContain('EADDRINUSE');
    expect(server.addresses).toEqual([]);
    expect(await canConnect(free)).toBe(false);
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    // The same server can start once the port is free.
    await server.start();
    expect(server.addresses.map((a) => a.port)).toEqual([free, taken]);
    await server.stop();
  });

  test.runIf(hasIPv6)('an IPv6 interface', async () => {
    const { server, port } = await serve(app, {}, ['::1', 0]);
    expect(server.addresses[0]).toMatchObject({ host: '::1', family: 'IPv6' });
    const client = await RawClient.connect(port, '::1');
    await client.write('GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('hi');
  });

  test('a UNIX domain socket, given by its path', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/rocket-unix-`);
    const path = `${dir}/app.sock`;
    try {
      const { server } = await serve(app, {}, path);
      expect(server.addresses).toEqual([{ host: path, port: 0, secure: false, family: 'unix' }]);
      const socket = net.connect(path);
      await new Promise((resolve) => socket.once('connect', resolve));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk));
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => socket.once('end', resolve));
      expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhi$/);
      socket.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("'' listens on every interface", async () => {
    const { port } = await serve(app, {}, ['', 0]);
    expect(await canConnect(port, '127.0.0.1')).toBe(true);
    if (hasIPv6) expect(await canConnect(port, '::1')).toBe(true);
  });

  test('start() twice is one start', async () => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app });
    await Promise.all([server.start(), server.start()]);
    await server.start();
    expect(server.addresses).toHaveLength(1);
    await server.stop();
  });
});

describe('stop and restart', () => {
  test('stop() before start() and twice is safe', async () => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app });
    await server.stop();
    await server.start();
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(server.stats().state).toBe('stopped');
  });

  test('stop() closes the listener and open connections', async () => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app });
    await server.start();
    const { port } = server.addresses[0]!;
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.readResponse();
    expect(server.stats().connections.open).toBe(1);
    await server.stop();
    await client.waitEnd();
    expect(await canConnect(port)).toBe(false);
    expect(server.stats().connections.open).toBe(0);
  });

  test('restart() serves again on the same interfaces', async () => {
    const port = await freePort();
    const server = new Rocket(['127.0.0.1', port], 'wsgi', { wsgi_app: app });
    await server.start();
    await server.restart();
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('hi');
    await server.stop();
  });

  test('stats() counts connections and requests', async () => {
    const { server, port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.readResponse();
    await client.readResponse();
    const stats = server.stats();
    expect(stats).toMatchObject({ state: 'running', connections: { open: 1, accepted: 1, idle: 1 }, requests: { total: 2 } });
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    client.destroy();
  });
});
