/**
 * Regression tests, one per defect found in review, each named after the bug it pins.
 */

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import net from 'node:net';
import { Rocket, type GatewayApp } from '@rocketserver/core';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { RawClient } from '../helpers/raw-client.js';
import { serve, textApp } from '../helpers/server.js';

const request = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

describe('output backpressure', () => {
  test('a pipelining client that never reads cannot make the server buffer responses without end', async () => {
    let calls = 0;
    const big = 'z'.repeat(1 << 20);
    const { server, port } = await serve((_e, start) => {
      calls++;
      start('200 OK', []);
      return [big];
    });
    const client = await RawClient.connect(port);
    client.socket.pause();
    await client.write(request('/').repeat(50));
    // The server stops reading requests once responses fill the socket…
    await expect.poll(() => server.stats().connections.flushing).toBe(1);
    expect(calls).toBeLessThan(5);
    // …and serves the rest as the client reads.
    client.socket.resume();
    for (let i = 0; i < 50; i++) expect((await client.readResponse({ timeout: 10_000 })).body.length).toBe(big.length);
    expect(calls).toBe(50);
    client.destroy();
  });

  test('a list body the client never reads is cut off after socketTimeout', async () => {
    const big = Buffer.alloc(32 << 20, 0x61);
    const { server, port } = await serve((_e, start) => {
      start('200 OK', []);
      return [big];
    }, { socketTimeout: 0.3 });
    const client = await RawClient.connect(port);
    client.socket.pause();
    await client.write(request('/'));
    await expect.poll(() => server.stats().connections.open, { timeout: 5000 }).toBe(0);
    client.destroy();
  });

  test('a Connection: close response is not truncated for a client that reads slowly', async () => {
    const body = Buffer.alloc(16 << 20, 0x62);
    const { port } = await serve((_e, start) => {
      start('200 OK', []);
      return [body];
    }, { socketTimeout: 0.3 });
    const client = await RawClient.connect(port);
    client.socket.pause();
    await client.write('GET / HTTP/1.0\r\n\r\n');
    // Read in bursts with pauses shorter than socketTimeout: slow, but always making progress.
    const reader = setInterval(() => {
      client.socket.resume();
      setTimeout(() => client.socket.pause(), 20);
    }, 150);
    try {
      const response = await client.readResponse({ timeout: 20_000 });
      expect(response.body.length).toBe(body.length);
    } finally {
      clearInterval(reader);
      client.socket.resume();
    }
    await client.waitEnd();
  });
});

describe('the worker pool', () => {
  test('a long queue of synchronous requests is served without a stack overflow', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const app: GatewayApp = async (environ, start) => {
      if (environ.PATH_INFO === '/wait') await gate;
      start('200 OK', []);
      return ['ok'];
    };
    // The queued requests are answered synchronously once they get the worker.
    const syncApp: GatewayApp = (environ, start) => {
      if (environ.PATH_INFO === '/wait') return app(environ, start);
      start('200 OK', []);
      return ['ok'];
    };
    const { server, port } = await serve(syncApp, { minThreads: 1, maxThreads: 1, queueSize: 2000 });
    const busy = await RawClient.connect(port);
    await busy.write(request('/wait'));
    await expect.poll(() => server.stats().pool.busy).toBe(1);
    const clients = await Promise.all(Array.from({ length: 1000 }, () => RawClient.connect(port)));
    await Promise.all(clients.map((c) => c.write(request('/'))));
    await expect.poll(() => server.stats().pool.queued, { timeout: 5000 }).toBe(1000);
    open();
    const responses = await Promise.all(clients.map((c) => c.readResponse({ timeout: 10_000 })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(server.stats().pool).toMatchObject({ busy: 0, queued: 0 });
    for (const c of [busy, ...clients]) c.destroy();
  });

  test('draining an unread body holds no worker', async () => {
    const { port } = await serve(textApp('no read'), { minThreads: 1, maxThreads: 1, queueTimeout: 1 });
    const slow = await RawClient.connect(port);
    await slow.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n');
    expect((await slow.readResponse()).header('connection')).toBe('keep-alive');
    await slow.write('x');
    const other = await RawClient.connect(port);
    await other.write(request('/'));
    expect((await other.readResponse()).status).toBe(200);
    slow.destroy();
    other.destroy();
  });
});

describe('TLS handshakes', () => {
  test('a client that never sends a ClientHello is closed after socketTimeout', async () => {
    const { port } = await serve(textApp('x'), { socketTimeout: 0.3 }, ['127.0.0.1', 0, certs.serverKey, certs.serverCert]);
    const client = await RawClient.connect(port);
    await client.waitEnd(3000);
  });

  test('stop() does not wait for a handshake under way', async () => {
    const server = new Rocket(['127.0.0.1', 0, certs.serverKey, certs.serverCert], 'wsgi', { wsgi_app: textApp('x') }, { handleSignals: false });
    await server.start();
    const client = await RawClient.connect(server.addresses[0]!.port);
    const started = Date.now();
    await server.stop({ timeout: 1 });
    expect(Date.now() - started).toBeLessThan(3000);
    await client.waitEnd();
  });
});

describe('apps that misbehave cannot crash the process', () => {
  test.each([
    ['a sync app', false],
    ['an async app', true],
  ])('%s returning a body whose iterator method throws gets a 500', async (_name, isAsync) => {
    const body = {
      [Symbol.iterator]() {
        throw new Error('no iterator today');
      },
    };
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return isAsync ? Promise.resolve(body) : body;
    };
    const { port, logs } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write(request('/'));
    expect((await client.readResponse()).status).toBe(500);
    expect(logs.some((l) => /no iterator today/.test(l.message))).toBe(true);
  });

  test('a read the app never awaited fails quietly when the client goes away', async () => {
    const app: GatewayApp = (environ, start) => {
      void environ['wsgi.input'].read();
      start('401 Unauthorized', []);
      return ['no'];
    };
    const { server, port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabcde');
    expect((await client.readResponse()).status).toBe(401);
    client.destroy();
    await expect.poll(() => server.stats().connections.open).toBe(0);
  });

  test('throwing an object without a prototype is a logged 500', async () => {
    const { port, logs } = await serve(async () => {
      throw Object.create(null);
    });
    const client = await RawClient.connect(port);
    await client.write(request('/'));
    expect((await client.readResponse()).status).toBe(500);
    expect(logs.some((l) => l.level === 'error' && /\[object Object\]/.test(l.message))).toBe(true);
  });
});

describe('the gateway contract', () => {
  test('close() is called on a body that is its own iterator (a Python-style iterable)', async () => {
    let closed = 0;
    const { port } = await serve((_e, start) => {
      start('200 OK', []);
      let i = 0;
      const body = {
        [Symbol.iterator]() {
          return this;
        },
        next: () => (i++ < 2 ? { done: false, value: 'x' } : { done: true, value: undefined }),
        close: () => {
          closed++;
        },
      };
      return body as unknown as Iterable<string>;
    });
    const client = await RawClient.connect(port);
    await client.write(request('/'));
    expect((await client.readResponse()).body.toString()).toBe('xx');
    await expect.poll(() => closed).toBe(1);
    client.destroy();
  });

  test('read(n) with a fractional n reads whole bytes and loses none', async () => {
    const { port } = await serve(async (environ, start) => {
      const input = environ['wsgi.input'];
      const first = await input.read(1.5);
      const rest = await input.read();
      start('200 OK', []);
      return [`${first.toString()}|${rest.toString()}`];
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789');
    expect((await client.readResponse()).body.toString()).toBe('0|123456789');
    client.destroy();
  });

  test('readline() over a body arriving in many small pieces returns whole lines', async () => {
    const { port } = await serve(async (environ, start) => {
      const lines: string[] = [];
      for (;;) {
        const line = await environ['wsgi.input'].readline();
        if (line.length === 0) break;
        lines.push(line.toString());
      }
      start('200 OK', []);
      return [JSON.stringify(lines)];
    });
    const client = await RawClient.connect(port);
    const body = 'alpha\nbeta\n' + 'g'.repeat(3000) + '\nend';
    await client.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let i = 0; i < body.length; i += 7) await client.write(body.slice(i, i + 7));
    expect(JSON.parse((await client.readResponse()).body.toString())).toEqual(['alpha\n', 'beta\n', 'g'.repeat(3000) + '\n', 'end']);
    client.destroy();
  });
});

describe('protocol details', () => {
  test("the server's error response to a HEAD request has no body", async () => {
    const { port } = await serve(textApp('x'));
    const client = await RawClient.connect(port);
    await client.write('HEAD / HTTP/1.1\r\nHost: t\r\nExpect: nothing-you-know\r\n\r\n');
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\n/);
    expect(all).toMatch(/Content-Length: \d+\r\n/);
    expect(all.endsWith('\r\n\r\n')).toBe(true);
  });

  test('205 Reset Content carries no body, and says so with Content-Length: 0', async () => {
    const { port } = await serve((_e, start) => {
      start('205 Reset Content', [['Content-Length', '4']]);
      return ['body'];
    });
    const client = await RawClient.connect(port);
    await client.write(request('/') + request('/'));
    const first = await client.readResponse();
    expect(first.status).toBe(205);
    expect(first.headerAll('content-length')).toEqual(['0']);
    expect((await client.readResponse()).status).toBe(205);
    client.destroy();
  });

  test('serverSoftware with CR or LF is refused at construction', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: textApp('x') }, { serverSoftware: 'x\r\nSet-Cookie: a=b' })).toThrow(
      /option serverSoftware must be a string of printable characters/,
    );
  });

  test('a head trickling in one byte at a time is parsed once complete', async () => {
    const { port } = await serve(textApp('ok'));
    const client = await RawClient.connect(port);
    client.socket.setNoDelay(true);
    const head = request('/') .replace('\r\n\r\n', `\r\nX-Long: ${'v'.repeat(2000)}\r\n\r\n`);
    for (const byte of head) {
      await client.write(byte);
    }
    expect((await client.readResponse()).body.toString()).toBe('ok');
    client.destroy();
  });
});

test('the listening port is free again right after stop()', async () => {
  const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: textApp('x') }, { handleSignals: false });
  await server.start();
  const { port } = server.addresses[0]!;
  await server.stop();
  const other = net.createServer();
  await new Promise<void>((resolve, reject) => {
    other.once('error', reject);
    other.listen(port, '127.0.0.1', resolve);
  });
  await new Promise<void>((resolve) => other.close(() => resolve()));
});
