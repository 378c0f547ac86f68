/**
 * `rocket.response` and `rocket.upgrade`: writing a response by calls (as the Node bridge does),
 * interim responses, trailers, flushing the head early, aborting, the disconnect notice, and
 * handing the connection over for another protocol.
 */

import { describe, expect, test } from 'vitest';
import type { Environ, GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { serve } from '../helpers/server.js';

type Channel = {
  startWith(code: number, reason: string, headers: readonly string[]): void;
  write(chunk: string | Uint8Array): boolean;
  flush(): void;
  end(trailers?: readonly string[]): void;
  abort(reason?: unknown): void;
  informational(code: number, reason: string, headers?: readonly string[]): void;
  onClose(listener: (reason: unknown) => void): void;
  drained(): Promise<void>;
};
const channel = (environ: Environ) => environ['rocket.response'] as Channel;

describe('rocket.response', () => {
  test('a response written by calls, with raw header pairs kept in order and case', async () => {
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.startWith(201, 'Made', ['X-One', '1', 'set-cookie', 'a=1', 'Set-Cookie', 'b=2']);
      out.write('part ');
      setImmediate(() => {
        out.write('two');
        out.end();
      });
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const response = await client.readResponse();
    expect(response.statusLine).toBe('HTTP/1.1 201 Made');
    expect(response.headers.slice(0, 3)).toEqual([['X-One', '1'], ['set-cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
    expect(response.header('transfer-encoding')).toBe('chunked');
    expect(response.body.toString()).toBe('part two');
    // The connection carries the next request: the exchange ended with the response.
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).status).toBe(201);
    client.destroy();
  });

  test.each([
    [700, 'unknown', 'HTTP/1.1 700 unknown'],
    [999, '', 'HTTP/1.1 999 Unknown'],
    [600, 'Six Hundred', 'HTTP/1.1 600 Six Hundred'],
  ])('startWith(%d, %j) sends %j: codes up to 999 go out as node:http sends them', async (code, reason, line) => {
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.startWith(code, reason, ['Content-Length', '2']);
      out.write('ok');
      out.end();
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const response = await client.readResponse();
    expect(response.statusLine).toBe(line);
    expect(response.body.toString()).toBe('ok');
    client.destroy();
  });

  test.each([
    [1000, ''],
    [99, 'x'],
    [150, 'Interim'],
    [700.5, ''],
    [700, 'bad\r\nX-Split: 1'],
  ])('startWith(%d, %j) throws: the request gets a 500 and a logged error, never a silent close', async (code, reason) => {
    const app: GatewayApp = (environ) => {
      channel(environ).startWith(code, reason, []);
      return environ['rocket.response'] as never;
    };
    const { port, logs } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(all).not.toMatch(/X-Split/);
    expect(logs.some((l) => l.level === 'error' && /ROCKET_ERR_START_RESPONSE/.test(l.message))).toBe(true);
  });

  test('interim responses go before the final one, and not to HTTP/1.0', async () => {
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.informational(103, '', ['Link', '</style.css>; rel=preload']);
      out.informational(102, 'Processing');
      out.startWith(200, '', ['Content-Length', '2']);
      out.write('ok');
      out.end();
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).head).toBe('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
    expect((await client.readResponse()).head).toBe('HTTP/1.1 102 Processing\r\n\r\n');
    const final = await client.readResponse();
    expect(final.status).toBe(200);
    client.destroy();

    const old = await RawClient.connect(port);
    await old.write('GET / HTTP/1.0\r\n\r\n');
    expect((await old.readResponse()).status).toBe(200);
  });

  test('trailers follow a chunked body', async () => {
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.startWith(200, '', ['Trailer', 'X-Checksum']);
      out.write('data');
      out.end(['X-Checksum', 'abc123']);
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('data');
    expect(response.trailers).toEqual([['X-Checksum', 'abc123']]);
    client.destroy();
  });

  test('flush() sends the head before any body (server-sent events)', async () => {
    let out!: Channel;
    const app: GatewayApp = (environ) => {
      out = channel(environ);
      out.startWith(200, '', ['Content-Type', 'text/event-stream']);
      out.flush();
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET /events HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => client.pending.toString()).toMatch(/\r\n\r\n$/);
    expect(client.pending.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Transfer-Encoding: chunked\r\n/);
    out.write('data: one\n\n');
    await expect.poll(() => client.pending.toString()).toContain('data: one');
    out.end();
    client.destroy();
  });

  test('abort() cuts the connection: no clean end of the body', async () => {
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.startWith(200, '', []);
      out.write('partial');
      setImmediate(() => out.abort(new Error('source failed')));
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toContain('7\r\npartial\r\n');
    expect(all.endsWith('0\r\n\r\n')).toBe(false);
  });

  test('onClose tells a long-poll that its client went away', async () => {
    let told: unknown = null;
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.onClose((reason) => {
        told = reason;
        out.abort(reason);
      });
      return environ['rocket.response'] as never;
    };
    const { server, port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET /poll HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => server.stats().connections.active).toBe(1);
    client.destroy();
    await expect.poll(() => told).toMatchObject({ code: 'ECONNRESET' });
  });

  test('a reset is reported as the system error the socket saw', async () => {
    let told: unknown = null;
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.onClose((reason) => {
        told = reason;
      });
      return environ['rocket.response'] as never;
    };
    const { server, port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET /poll HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => server.stats().connections.active).toBe(1);
    client.socket.resetAndDestroy();
    await expect.poll(() => told).toMatchObject({ code: 'ECONNRESET', syscall: 'read' });
  });

  test('HEAD ended without a body announces no length (the GET body length is unknown)', async () => {
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      out.startWith(200, 'OK', ['X-Kind', 'head']);
      out.end();
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const head = await client.readResponse({ head: true });
    expect(head.header('x-kind')).toBe('head');
    expect(head.header('content-length')).toBeUndefined();
    expect(head.header('transfer-encoding')).toBeUndefined();
    const get = await client.readResponse();
    expect(get.header('content-length')).toBe('0');
    client.destroy();
  });

  test('a body read still waiting when the response ends hears the end once the rest is drained', async () => {
    let outcome: unknown = null;
    const app: GatewayApp = (environ) => {
      const out = channel(environ);
      environ['wsgi.input'].read().then(
        (chunk: Buffer) => (outcome = { read: chunk.toString() }),
        (error: Error) => (outcome = { error: error.message }),
      );
      out.startWith(200, 'OK', ['Content-Length', '2']);
      out.write('ok');
      out.end();
      return environ['rocket.response'] as never;
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('ok');
    expect(outcome).toBe(null);
    await client.write('0123456789');
    await expect.poll(() => outcome).toEqual({ read: '' });
    // The drained body left the connection usable.
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
  });
});

describe('rocket.upgrade', () => {
  test('hands over the socket and the bytes after the head', async () => {
    const app: GatewayApp = (environ, start) => {
      const upgrade = environ['rocket.upgrade'] as (() => { socket: import('node:net').Socket; head: Buffer }) | undefined;
      if (upgrade === undefined) {
        start('426 Upgrade Required', []);
        return [];
      }
      const { socket, head } = upgrade();
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.write(`head=${head.toString()};`);
      socket.on('data', (chunk: Buffer) => socket.write(chunk.toString().toUpperCase()));
      return environ['rocket.response'] as never;
    };
    const { server, port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly');
    await expect.poll(() => client.pending.toString()).toContain('head=early;');
    await client.write('hello');
    await expect.poll(() => client.pending.toString()).toContain('HELLO');
    expect(server.stats().connections.open).toBe(0);
    client.destroy();
  });

  test('is not offered without Connection: upgrade', async () => {
    const { port } = await serve((environ, start) => {
      start('200 OK', []);
      return [String(typeof environ['rocket.upgrade'])];
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nUpgrade: echo\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('undefined');
    client.destroy();
  });
});
