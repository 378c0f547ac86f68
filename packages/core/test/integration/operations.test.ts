/**
 * Operations: the worker pool, the connection monitor's deadlines, graceful stop, restart and
 * signals — over real sockets and, for signals, real child processes.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Rocket, type GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { serve, textApp } from '../helpers/server.js';

/** An app whose requests to /wait block until `open()`; everything else answers at once. */
function gatedApp() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let waiting = 0;
  const app: GatewayApp = async (environ, start) => {
    if (environ.PATH_INFO === '/wait') {
      waiting++;
      await gate;
    }
    start('200 OK', []);
    return [environ.PATH_INFO];
  };
  return { app, open: () => open(), waiting: () => waiting };
}

const request = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('the worker pool', () => {
  test('grows while connections queue, up to maxThreads, and shrinks back one a second', async () => {
    const gated = gatedApp();
    const { server, port } = await serve(gated.app, { minThreads: 2, maxThreads: 4 });
    expect(server.stats().pool).toMatchObject({ threads: 2, busy: 0, queued: 0 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => RawClient.connect(port)));
    for (const client of clients) await client.write(request('/wait'));
    await expect.poll(() => server.stats().pool).toMatchObject({ threads: 4, busy: 4, queued: 2 });
    expect(gated.waiting()).toBe(4);
    expect(server.stats().pool.grown).toBeGreaterThan(0);
    gated.open();
    for (const client of clients) expect((await client.readResponse()).status).toBe(200);
    await expect.poll(() => server.stats().pool, { timeout: 5000 }).toMatchObject({ threads: 2, busy: 0, queued: 0, shrunk: 2 });
    for (const client of clients) client.destroy();
  });

  test('with maxThreads 0 the pool grows without a cap', async () => {
    const gated = gatedApp();
    const { server, port } = await serve(gated.app, { minThreads: 1, maxThreads: 0 });
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(port)));
    try {
      for (const client of clients) await client.write(request('/wait'));
      // No limit: nobody waits in the queue for a worker.
      await expect.poll(() => gated.waiting()).toBe(8);
      expect(server.stats().pool).toMatchObject({ threads: 8, queued: 0 });
    } finally {
      gated.open();
    }
    for (const client of clients) client.destroy();
  });

  test('an idle keep-alive connection holds no worker', async () => {
    const { server, port } = await serve(textApp('x'), { minThreads: 1, maxThreads: 1 });
    const first = await RawClient.connect(port);
    await first.write(request('/'));
    await first.readResponse();
    // The first connection is idle now; the second gets the only worker at once.
    const second = await RawClient.connect(port);
    await second.write(request('/'));
    expect((await second.readResponse()).status).toBe(200);
    expect(server.stats().connections).toMatchObject({ open: 2, idle: 2 });
    first.destroy();
    second.destroy();
  });

  test('a slow client that has not finished its head holds no worker', async () => {
    const { port } = await serve(textApp('x'), { minThreads: 1, maxThreads: 1 });
    const slow = await RawClient.connect(port);
    await slow.write('GET / HTTP/1.1\r\nHo');
    const fast = await RawClient.connect(port);
    await fast.write(request('/'));
    expect((await fast.readResponse()).status).toBe(200);
    slow.destroy();
    fast.destroy();
  });

  test('a full queue answers 503 with Retry-After, and the server keeps serving', async () => {
    const gated = gatedApp();
    const { server, port } = await serve(gated.app, { minThreads: 1, maxThreads: 1, queueSize: 1 });
    const busy = await RawClient.connect(port);
    await busy.write(request('/wait'));
    await expect.poll(() => gated.waiting()).toBe(1);
    const queued = await RawClient.connect(port);
    await queued.write(request('/queued'));
    await expect.poll(() => server.stats().pool.queued).toBe(1);
    const refused = await RawClient.connect(port);
    const response = await refused.readResponse();
    expect(response.status).toBe(503);
    expect(response.header('retry-after')).toBe('5');
    expect(response.header('connection')).toBe('close');
    await refused.waitEnd();
    expect(server.stats().connections.rejected).toBe(1);
    gated.open();
    expect((await busy.readResponse()).body.toString()).toBe('/wait');
    expect((await queued.readResponse()).body.toString()).toBe('/queued');
    const later = await RawClient.connect(port);
    await later.write(request('/later'));
    expect((await later.readResponse()).status).toBe(200);
    for (const c of [busy, queued, later]) c.destroy();
  });

  test('a request that waits longer than queueTimeout for a worker gets 503', async () => {
    const gated = gatedApp();
    const { port } = await serve(gated.app, { minThreads: 1, maxThreads: 1, queueTimeout: 0.2 });
    const busy = await RawClient.connect(port);
    await busy.write(request('/wait'));
    await expect.poll(() => gated.waiting()).toBe(1);
    const queued = await RawClient.connect(port);
    await queued.write(request('/queued'));
    const response = await queued.readResponse();
    expect(response.status).toBe(503);
    expect(response.header('retry-after')).toBe('5');
    gated.open();
    expect((await busy.readResponse()).status).toBe(200);
    busy.destroy();
  });
});

describe('deadlines', () => {
  test('an idle keep-alive client is told the timeout and closed a little after it', async () => {
    const { port } = await serve(textApp('x'), { timeout: 1 });
    const client = await RawClient.connect(port);
    await client.write(request('/'));
    const response = await client.readResponse();
    const answered = Date.now();
    expect(response.header('keep-alive')).toBe('timeout=1');
    await client.waitEnd(3000);
    expect(Date.now() - answered).toBeGreaterThanOrEqual(1000);
  });

  test('a slowloris client gets 408 at the head deadline while others are served normally', async () => {
    const { port } = await serve(textApp('fine'), { headerTimeout: 1, socketTimeout: 5 });
    const slow = await RawClient.connect(port);
    const head = request('/').slice(0, -2) + 'X-Padding: ' + 'a'.repeat(100) + '\r\n\r\n';
    let sent = 0;
    // One byte every 100 ms: never idle long enough for socketTimeout, never a whole head.
    const trickle = setInterval(() => {
      if (sent < head.length - 1 && !slow.ended) void slow.write(head[sent++]!).catch(() => {});
    }, 100);
    try {
      const others = await RawClient.connect(port);
      for (let i = 0; i < 5; i++) {
        await others.write(request(`/${i}`));
        expect((await others.readResponse()).body.toString()).toBe('fine');
      }
      others.destroy();
      const response = await slow.readResponse({ timeout: 3000 });
      expect(response.status).toBe(408);
      expect(sent).toBeLessThan(head.length - 1);
      await slow.waitEnd();
    } finally {
      clearInterval(trickle);
    }
  });

  test('the head deadline starts again for each request on a keep-alive connection', async () => {
    const { port } = await serve(textApp('ok'), { headerTimeout: 0.3 });
    const client = await RawClient.connect(port);
    for (let i = 0; i < 3; i++) {
      await client.write(request('/'));
      expect((await client.readResponse()).status).toBe(200);
      // Idle longer than headerTimeout between requests: that is keep-alive time, not head time.
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    client.destroy();
  });

  test('a stalled upload gets 408', async () => {
    const app: GatewayApp = async (environ, start) => {
      await environ['wsgi.input'].read();
      start('200 OK', []);
      return [];
    };
    const { port } = await serve(app, { socketTimeout: 0.3 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    const response = await client.readResponse();
    expect(response.status).toBe(408);
    await client.waitEnd();
  });

  test('a client that stops reading its response is cut off after socketTimeout', async () => {
    const big = 'y'.repeat(1 << 20);
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return (function* () {
        for (let i = 0; i < 64; i++) yield big;
      })();
    };
    const { server, port } = await serve(app, { socketTimeout: 0.3 });
    const client = await RawClient.connect(port);
    client.socket.pause();
    await client.write(request('/'));
    await expect.poll(() => server.stats().connections.open, { timeout: 5000 }).toBe(0);
    client.destroy();
  });

  test('maxRequestsPerConnection: the last allowed response says Connection: close, and a request pipelined after it gets 503', async () => {
    const { server, port } = await serve(textApp('ok'), { maxRequestsPerConnection: 3, timeout: 30 });
    const client = await RawClient.connect(port);
    await client.write(request('/').repeat(4));
    const first = await client.readResponse();
    expect([first.header('connection'), first.header('keep-alive')]).toEqual(['keep-alive', 'timeout=30, max=3']);
    expect((await client.readResponse()).header('connection')).toBe('keep-alive');
    expect((await client.readResponse()).header('connection')).toBe('close');
    const refused = await client.readResponse();
    expect([refused.status, refused.header('connection'), refused.header('retry-after'), refused.body.toString()]).toEqual([
      503,
      'close',
      undefined,
      '503 Service Unavailable: the connection served its last request\n',
    ]);
    await client.waitEnd();
    expect(client.pending.length).toBe(0);
    expect(server.stats().requests).toMatchObject({ total: 4 });
  });

  test('maxRequestsPerConnection: what follows a request with a body beyond the limit is not read', async () => {
    const { port } = await serve(textApp('ok'), { maxRequestsPerConnection: 1 });
    const client = await RawClient.connect(port);
    await client.write(`${request('/')}POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc${request('/')}`);
    expect((await client.readResponse()).status).toBe(200);
    expect((await client.readResponse()).status).toBe(503);
    await client.waitEnd();
    expect(client.pending.length).toBe(0);
  });

  test('maxConnections: a connection beyond the limit is closed on arrival and told to onDrop; updateOptions changes the limit', async () => {
    const drops: unknown[] = [];
    const { server, port } = await serve(textApp('ok'), { maxConnections: 1, onDrop: (connection) => void drops.push(connection) });
    const first = await RawClient.connect(port);
    await first.write(request('/'));
    await first.readResponse();
    const second = await RawClient.connect(port);
    await second.waitEnd();
    expect(second.pending.length).toBe(0);
    await expect.poll(() => drops.length).toBe(1);
    expect(drops[0]).toMatchObject({ localPort: port, remoteAddress: '127.0.0.1', remotePort: expect.any(Number) });
    server.updateOptions({ maxConnections: 0 });
    const third = await RawClient.connect(port);
    await third.write(request('/'));
    expect((await third.readResponse()).status).toBe(200);
    expect(() => server.updateOptions({ maxConnections: -1 })).toThrow(/option maxConnections must be an integer ≥ 0 \(got -1\)/);
    for (const client of [first, second, third]) client.destroy();
  });

  test('maxConnections counts each interface apart, and leaves the metrics interface out', async () => {
    const { server, port } = await serve(textApp('ok'), { maxConnections: 1, metricsInterface: ['127.0.0.1', 0] });
    const metricsPort = server.metricsAddress!.port;
    const held = await RawClient.connect(port);
    await held.write(request('/'));
    await held.readResponse();
    const scrapes = await Promise.all([RawClient.connect(metricsPort), RawClient.connect(metricsPort)]);
    for (const scrape of scrapes) await scrape.write(request('/metrics'));
    for (const scrape of scrapes) expect((await scrape.readResponse()).status).toBe(200);
    for (const client of [held, ...scrapes]) client.destroy();
  });

  test('timeout under a second is hinted as Keep-Alive: timeout=0; timeout 0 sends no hint', async () => {
    for (const [timeout, hint] of [[0.5, 'timeout=0'], [0, undefined]] as const) {
      const { port } = await serve(textApp('ok'), { timeout });
      const client = await RawClient.connect(port);
      await client.write(request('/'));
      expect((await client.readResponse()).header('keep-alive')).toBe(hint);
      client.destroy();
    }
  });
});

describe('stop', () => {
  test('under 200 concurrent keep-alive clients: every in-flight request completes, new ones are refused', async () => {
    const gated = gatedApp();
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: gated.app }, { handleSignals: false });
    await server.start();
    const { port } = server.addresses[0]!;
    const clients = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(port)));
    // Each client has had one request served (keep-alive), and a second one is in flight.
    await Promise.all(clients.map((c) => c.write(request('/first'))));
    await Promise.all(clients.map((c) => c.readResponse()));
    await Promise.all(clients.map((c) => c.write(request('/wait'))));
    await expect.poll(() => gated.waiting()).toBe(200);
    const started = Date.now();
    const stopped = server.stop({ timeout: 10 });
    await expect.poll(() => server.stats().state).toBe('stopping');
    // The listener closes once it has accepted what was waiting: then new connections are refused.
    await expect.poll(() => server.addresses).toEqual([]);
    const refused = await RawClient.connect(port).then(
      (c) => (c.destroy(), false),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
    expect(refused).toBe(true);
    gated.open();
    const responses = await Promise.all(clients.map((c) => c.readResponse()));
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.header('connection')).toBe('close');
    }
    await stopped;
    expect(Date.now() - started).toBeLessThan(10_000);
    await Promise.all(clients.map((c) => c.waitEnd()));
    expect(server.stats().connections.open).toBe(0);
  });

  test('idle connections close, and no pipelined request is read after a Connection: close response', async () => {
    const gated = gatedApp();
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: gated.app }, { handleSignals: false });
    await server.start();
    const { port } = server.addresses[0]!;
    const idle = await RawClient.connect(port);
    await idle.write(request('/'));
    await idle.readResponse();
    const busy = await RawClient.connect(port);
    await busy.write(request('/wait') + request('/pipelined'));
    await expect.poll(() => gated.waiting()).toBe(1);
    const stopped = server.stop({ timeout: 10 });
    await idle.waitEnd();
    gated.open();
    const response = await busy.readResponse();
    expect(response.body.toString()).toBe('/wait');
    expect(response.header('connection')).toBe('close');
    await busy.waitEnd();
    expect(busy.pending.length).toBe(0);
    await stopped;
  });

  test('a client in the middle of its head is told the server is shutting down', async () => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: textApp('x') }, { handleSignals: false });
    await server.start();
    const client = await RawClient.connect(server.addresses[0]!.port);
    await client.write('GET / HTTP/1.1\r\nHo');
    // Open, and no longer idle: the partial head has arrived.
    await expect.poll(() => server.stats().connections).toMatchObject({ open: 1, idle: 0 });
    const stopped = server.stop();
    const response = await client.readResponse();
    expect(response.status).toBe(503);
    await stopped;
  });

  test('a hung app is cut off at the timeout', async () => {
    const app: GatewayApp = () => new Promise(() => {});
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { handleSignals: false });
    await server.start();
    const client = await RawClient.connect(server.addresses[0]!.port);
    await client.write(request('/'));
    await expect.poll(() => server.stats().connections.active).toBe(1);
    const started = Date.now();
    await server.stop({ timeout: 0.3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await client.readToEnd()).length).toBe(0);
    expect(server.stats().connections.open).toBe(0);
  });

  test('signal handlers are installed by start() and removed by stop()', async () => {
    const before = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'].map((s) => process.listenerCount(s));
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: textApp('x') });
    await server.start();
    expect(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'].map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    await server.stop();
    expect(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'].map((s) => process.listenerCount(s))).toEqual(before);
  });
});

describe('restart', () => {
  test('in-flight requests finish and close; connections made meanwhile are served at once', async () => {
    const gated = gatedApp();
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: gated.app }, { handleSignals: false });
    await server.start();
    const { port } = server.addresses[0]!;
    const old = await RawClient.connect(port);
    await old.write(request('/wait'));
    await expect.poll(() => gated.waiting()).toBe(1);
    const idle = await RawClient.connect(port);
    await idle.write(request('/'));
    await idle.readResponse();
    const restarted = server.restart({ timeout: 10 });
    expect(server.stats().state).toBe('restarting');
    // Idle connections of before the restart close; new ones are accepted and served.
    await idle.waitEnd();
    const fresh = await RawClient.connect(port);
    await fresh.write(request('/fresh'));
    const freshResponse = await fresh.readResponse();
    expect(freshResponse.body.toString()).toBe('/fresh');
    expect(freshResponse.header('connection')).toBe('keep-alive');
    gated.open();
    const oldResponse = await old.readResponse();
    expect(oldResponse.header('connection')).toBe('close');
    await restarted;
    expect(server.stats().state).toBe('running');
    expect(server.addresses[0]!.port).toBe(port);
    fresh.destroy();
    await server.stop();
  });

  test('a request queued for a worker when the restart begins is still served', async () => {
    const gated = gatedApp();
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: gated.app }, { handleSignals: false, minThreads: 1, maxThreads: 1 });
    await server.start();
    const { port } = server.addresses[0]!;
    const busy = await RawClient.connect(port);
    await busy.write(request('/wait'));
    await expect.poll(() => gated.waiting()).toBe(1);
    const queued = await RawClient.connect(port);
    await queued.write(request('/queued'));
    await expect.poll(() => server.stats().pool.queued).toBe(1);
    const restarted = server.restart({ timeout: 10 });
    gated.open();
    expect((await busy.readResponse()).status).toBe(200);
    const response = await queued.readResponse();
    expect(response.body.toString()).toBe('/queued');
    expect(response.header('connection')).toBe('close');
    await restarted;
    await server.stop();
  });
});

describe('signals, in a child process', () => {
  const FIXTURE = fileURLToPath(new URL('../fixtures/signal-server.mjs', import.meta.url));

  async function child(env: Record<string, string> = {}) {
    const proc = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
    proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const exited = once(proc, 'exit') as Promise<[number | null, string | null]>;
    await expect.poll(() => /ready (\d+)/.exec(out)?.[1], { timeout: 10_000 }).toBeTruthy();
    return { proc, exited, port: Number(/ready (\d+)/.exec(out)![1]), out: () => out };
  }

  test('SIGTERM drains the request in flight, then the process exits with code 0', async () => {
    const c = await child();
    const client = await RawClient.connect(c.port);
    await client.write(request('/slow'));
    await expect.poll(() => c.out()).toContain('started /slow');
    c.proc.kill('SIGTERM');
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('done /slow');
    expect(response.header('connection')).toBe('close');
    expect(await c.exited).toEqual([0, null]);
  });

  test('a second SIGINT forces the stop of a server stuck on a hung request', async () => {
    const c = await child();
    const client = await RawClient.connect(c.port);
    await client.write(request('/hang'));
    await expect.poll(() => c.out()).toContain('started /hang');
    c.proc.kill('SIGINT');
    await expect.poll(() => net.connect(c.port).once('error', () => {}).connecting).toBe(true);
    c.proc.kill('SIGINT');
    expect(await c.exited).toEqual([0, null]);
    await client.waitEnd();
  });

  test('SIGHUP restarts: a request in flight completes and the server keeps serving', async () => {
    const c = await child();
    const client = await RawClient.connect(c.port);
    await client.write(request('/slow'));
    await expect.poll(() => c.out()).toContain('started /slow');
    c.proc.kill('SIGHUP');
    expect((await client.readResponse()).header('connection')).toBe('close');
    const next = await RawClient.connect(c.port);
    await next.write(request('/after'));
    expect((await next.readResponse()).body.toString()).toBe('done /after');
    next.destroy();
    c.proc.kill('SIGTERM');
    expect(await c.exited).toEqual([0, null]);
  });

  test('after stop(), nothing is left: the process exits by itself', async () => {
    const proc = spawn(process.execPath, [fileURLToPath(new URL('../fixtures/clean-exit.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
    proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    const [code, signal] = (await once(proc, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    expect({ code, signal, out }).toEqual({ code: 0, signal: null, out: 'stopped\n' });
  });
});
