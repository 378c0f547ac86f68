/**
 * The README's "Deploying" configurations, run: real nginx and HAProxy in front of Rocket on
 * loopback, systemd-socket-activate passing a socket. The client connects from 127.0.0.2 (still
 * loopback), so its address is told apart from the proxies' 127.0.0.1 at every step.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Rocket, type GatewayApp } from '@rocketserver/core';
import { createServer } from '@rocketserver/adapter-node';
import { startLoad } from '../helpers/load.mjs';
import { freePort, hasCommand, startHaproxy, startNginx, type RunningProxy } from './proxies.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const WORKERS_FIXTURE = fileURLToPath(new URL('../../packages/core/test/fixtures/workers-server.mjs', import.meta.url));
const ACTIVATED_FIXTURE = fileURLToPath(new URL('./fixtures/activated.mjs', import.meta.url));
const CLIENT = '127.0.0.2';

/** The README's fenced block of `lang` under the heading `heading`. */
function readmeBlock(heading: string, lang: string): string {
  const section = README.slice(README.indexOf(`### ${heading}\n`));
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (match === null) throw new Error(`no ${lang} block under "${heading}" in the README`);
  return match[1]!;
}

/** What the app saw, as JSON. */
const whoApp: GatewayApp = (environ, startResponse) => {
  const body = JSON.stringify({ remote: environ.REMOTE_ADDR, scheme: environ['wsgi.url_scheme'], host: environ.HTTP_HOST, xff: environ.HTTP_X_FORWARDED_FOR ?? null });
  startResponse('200 OK', [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]]);
  return [body];
};

function get(port: number, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, localAddress: CLIENT, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Bytes a raw connection from 127.0.0.2 receives after sending `data`, until the server closes. */
async function rawExchange(port: number, data: Buffer | string): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: CLIENT });
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(data);
  await once(socket, 'close');
  return received;
}

async function rocket(app: GatewayApp, options: ConstructorParameters<typeof Rocket>[3] = {}) {
  const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { handleSignals: false, logLevel: 'silent', ...options });
  await server.start();
  return server;
}

/** nginx's README block, its ports replaced: Rocket's upstream and a free listening port. */
const nginxBlock = (upstream: number) => (port: number) =>
  readmeBlock('nginx', 'nginx').replace('127.0.0.1:8000', `127.0.0.1:${upstream}`).replace('listen 80;', `listen 127.0.0.1:${port};`);

const haveNginx = hasCommand('nginx');
const haveHaproxy = hasCommand('haproxy');
const haveActivate = hasCommand('systemd-socket-activate');
if (!haveNginx) console.warn('test/deploy: nginx is not installed (apt-get install nginx-light): its tests are skipped');
if (!haveHaproxy) console.warn('test/deploy: haproxy is not installed (apt-get install haproxy): its tests are skipped');
if (!haveActivate) console.warn('test/deploy: systemd-socket-activate is not installed (apt-get install systemd): its test is skipped');

describe.runIf(haveNginx)('behind nginx (README configuration)', () => {
  let server: Rocket;
  let nginx: RunningProxy;
  beforeAll(async () => {
    server = await rocket(whoApp);
    nginx = await startNginx(nginxBlock(server.addresses[0]!.port));
  }, 20_000);
  afterAll(async () => {
    await nginx?.stop();
    await server?.stop({ timeout: 1 });
  });

  test('the client address reaches the app through X-Forwarded-For from the trusted nginx', async () => {
    const response = await get(nginx.port, '/', { Host: 'shop.example' });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ remote: CLIENT, scheme: 'http', host: 'shop.example', xff: CLIENT });
  });

  test("a client's own X-Forwarded-For is ignored: nginx appends the real address, which wins", async () => {
    const response = await get(nginx.port, '/', { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https' });
    expect(JSON.parse(response.body)).toMatchObject({ remote: CLIENT, scheme: 'http', xff: `6.6.6.6, ${CLIENT}` });
  });

  test('a spoofed header sent straight to Rocket from an untrusted peer changes nothing', async () => {
    const response = await get(server.addresses[0]!.port, '/', { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' });
    expect(JSON.parse(response.body)).toEqual({ remote: CLIENT, scheme: 'http', host: expect.stringMatching(/^127\.0\.0\.1:\d+$/), xff: '6.6.6.6' });
  });
});

describe.runIf(haveNginx)('a rolling reload behind nginx', () => {
  test('SIGHUP twice under load through nginx: 0 failed requests', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [WORKERS_FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: String(port), WORKERS: '2' } });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
    proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const exited = once(proc, 'exit');
    let nginx: RunningProxy | undefined;
    try {
      await expect.poll(() => /ready \d+|failed/.exec(out)?.[0], { timeout: 10_000 }).toBeTruthy();
      expect(out).toContain(`ready ${port}`);
      nginx = await startNginx(nginxBlock(port));
      const load = startLoad({ port: nginx.port, concurrency: 16 });
      let answered = 0;
      for (let i = 1; i <= 2; i++) {
        answered += 400;
        await load.answered(answered);
        proc.kill('SIGHUP');
        await expect.poll(() => out.split('reloaded').length - 1, { timeout: 20_000 }).toBe(i);
      }
      await load.answered(answered + 400);
      const counts = await load.stop();
      // nginx answers 502 for anything its upstream dropped: every response must be Rocket's 200.
      expect({ failed: counts.failed, other: counts.other, unavailable: counts.unavailable, failures: counts.failures }).toEqual({ failed: 0, other: 0, unavailable: 0, failures: [] });
      expect(counts.ok).toBe(counts.sent);
      expect(counts.ok).toBeGreaterThanOrEqual(1200);
      expect(out).not.toMatch(/^(warn|error) /m);
      expect(nginx.stderr()).not.toMatch(/upstream prematurely closed|Connection reset|failed \(\d+/);
    } finally {
      await nginx?.stop();
      proc.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});

describe.runIf(haveHaproxy)('behind HAProxy with PROXY protocol v2 (README configuration)', () => {
  let server: Rocket;
  let bridged: ReturnType<typeof createServer>;
  const proxies: RunningProxy[] = [];
  const haproxyFor = (upstream: number) => (port: number) =>
    readmeBlock('HAProxy', 'haproxy').replace('127.0.0.1:8000', `127.0.0.1:${upstream}`).replace('bind :80', `bind 127.0.0.1:${port}`);
  beforeAll(async () => {
    server = await rocket(whoApp, { proxyProtocol: 'v2', readinessPath: '/ready' });
    bridged = createServer({ rocket: { proxyProtocol: 'v2', handleSignals: false, logLevel: 'silent' } } as never, (req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ remote: req.socket.remoteAddress, xff: req.headers['x-forwarded-for'] ?? null }));
    });
    await new Promise<void>((resolve) => bridged.listen(0, '127.0.0.1', () => resolve()));
    proxies.push(await startHaproxy(haproxyFor(server.addresses[0]!.port)));
    proxies.push(await startHaproxy(haproxyFor((bridged.address() as net.AddressInfo).port)));
  }, 20_000);
  afterAll(async () => {
    for (const proxy of proxies) await proxy.stop();
    await server?.stop({ timeout: 1 });
    await new Promise((resolve) => bridged?.close(resolve));
  });

  test('the client address reaches a gateway app as REMOTE_ADDR', async () => {
    const response = await get(proxies[0]!.port);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ remote: CLIENT, xff: null });
  });

  test('and a Node app as req.socket.remoteAddress, with no setting of its own', async () => {
    const response = await get(proxies[1]!.port);
    expect(JSON.parse(response.body)).toEqual({ remote: CLIENT, xff: null });
  });

  test("HAProxy's health check (PROXY LOCAL) reaches the readiness path", async () => {
    const response = await get(proxies[0]!.port, '/ready');
    expect(response).toEqual({ status: 200, body: 'ready\n' });
    expect(proxies[0]!.stderr()).not.toMatch(/is DOWN/);
  });

  test('a PROXY header from a peer not allowed to send one closes the connection without a response', async () => {
    const received = await rawExchange(server.addresses[0]!.port, 'PROXY TCP4 6.6.6.6 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(received).toBe('');
  });
});

describe.runIf(haveActivate)('systemd socket activation (systemd-socket-activate)', () => {
  // SIGTERM to the process, as systemd-socket-activate forwards it, or to the whole group, as
  // systemd's default KillMode=control-group sends it to every process of the unit.
  for (const [workers, signalled] of [[0, 'process'], [2, 'process'], [2, 'group']] as const) {
    test(`systemd://http${workers ? ' with 2 workers' : ''}, SIGTERM to the ${signalled}: Rocket serves on the socket it was passed, then stops`, async () => {
      const port = await freePort();
      // It passes its child only the variables named with -E (and LISTEN_*).
      const args = ['-l', `127.0.0.1:${port}`, '--fdname=http', '-E', 'BIND=systemd://http', '-E', `WORKERS=${workers}`, '-E', 'PATH'];
      const proc = spawn('systemd-socket-activate', [...args, process.execPath, ACTIVATED_FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'], detached: signalled === 'group' });
      let out = '';
      proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
      proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
      const exited = once(proc, 'exit');
      let stopTook = Infinity;
      try {
        // It says when it listens; it starts its child on the first connection, this request.
        await expect.poll(() => out, { timeout: 10_000 }).toMatch(/Listening on 127\.0\.0\.1:\d+ as 3/);
        const response = await get(port);
        expect(response.status).toBe(200);
        const seen = JSON.parse(response.body) as { pid: number; remote: string; listenPid: string | null };
        expect(seen.remote).toBe(CLIENT);
        if (workers === 0) expect(String(seen.pid)).toBe(seen.listenPid);
        else expect(String(seen.pid)).not.toBe(seen.listenPid);
        expect((await get(port)).status).toBe(200);
        // With workers, the first one serves while the others may still be starting: a SIGTERM to
        // the primary must stop them from then on, not only once it is ready. To the group, it
        // comes once every worker is listening (a worker still loading the app ends by it).
        if (signalled === 'group') await expect.poll(() => out, { timeout: 10_000 }).toMatch(/^ready /m);
        const signalledAt = Date.now();
        if (signalled === 'group') process.kill(-proc.pid!, 'SIGTERM');
        else proc.kill('SIGTERM');
        expect(await exited).toEqual([0, null]);
        stopTook = Date.now() - signalledAt;
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${out}`);
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) {
          if (signalled === 'group') process.kill(-proc.pid!, 'SIGKILL');
          else proc.kill('SIGKILL');
        }
      }
      // The fixture's shutdownTimeout is 5 s, and nothing is in flight.
      expect(stopTook).toBeLessThan(5000);
      const own = out.split('\n').filter((line) => line !== '' && !/^(Listening on|Communication attempt|Execing) /.test(line));
      expect(own, out).toEqual([expect.stringMatching(new RegExp(`^ready \\[\\{"host":"127\\.0\\.0\\.1","port":${port},`)), 'stopped']);
    }, 30_000);
  }
});
