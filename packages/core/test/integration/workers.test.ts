/**
 * Worker processes on Node's cluster, supervised by the primary: rolling reloads and a stop under
 * load with every request counted, respawns, crash loops, SIGTTIN/SIGTTOU, one scrape for every
 * worker, the access log's worker, reusePort where Node.js has it. Real child processes only.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Rocket, RocketError } from '@rocketserver/core';
import { startLoad } from '../../../../test/helpers/load.mjs';
import { reusePortSupported } from '../../src/workers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/workers-server.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

async function primary(env: Record<string, string> = {}, args: string[] = [FIXTURE]) {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
  proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
  const exited = once(proc, 'exit') as Promise<[number | null, string | null]>;
  const count = (text: string) => out.split(text).length - 1;
  /** The workers the primary reports (SIGUSR2), as worker number → pid. */
  const workers = async () => {
    const before = count('workers ');
    proc.kill('SIGUSR2');
    await expect.poll(() => count('workers '), { timeout: 10_000 }).toBe(before + 1);
    const line = out.split('\n').filter((l) => l.startsWith('workers '))[before]!;
    return Object.fromEntries((line.split(' ')[2] ?? '').split(',').filter(Boolean).map((pair) => pair.split(':').map(Number)));
  };
  return { proc, exited, out: () => out, count, workers };
}

async function ready(env: Record<string, string> = {}) {
  const p = await primary(env);
  await expect.poll(() => /ready (\d+)|failed/.exec(p.out())?.[0], { timeout: 10_000 }).toBeTruthy();
  return { ...p, port: Number(/ready (\d+)/.exec(p.out())![1]) };
}

describe('workers', () => {
  test('three rolling reloads and a SIGTERM under load: no request is lost', async () => {
    const p = await ready({ WORKERS: '2' });
    const before = await p.workers();
    const load = startLoad({ port: p.port, concurrency: 20 });
    let answered = 0;
    for (let i = 1; i <= 3; i++) {
      answered += 300;
      await load.answered(answered);
      p.proc.kill('SIGHUP');
      await expect.poll(() => p.count('reloaded'), { timeout: 15_000 }).toBe(i);
    }
    const after = await p.workers();
    await load.answered(answered + 300);
    load.serverStopping();
    p.proc.kill('SIGTERM');
    expect(await p.exited).toEqual([0, null]);
    const counts = await load.stop();
    expect(counts.failures).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.sent).toBe(counts.ok + counts.unavailable + counts.unaccepted);
    expect(counts.ok).toBeGreaterThan(1200);
    // Every worker was replaced, and the numbers stayed 1 and 2.
    expect(Object.keys(after)).toEqual(['1', '2']);
    expect(Object.values(after).some((pid) => Object.values(before).includes(pid))).toBe(false);
    expect(p.out()).not.toMatch(/^(warn|error) /m);
  });

  test('one scrape shows every worker, and the access log says which one answered', async () => {
    const p = await ready({ WORKERS: '2', ACCESS_LOG: '1' });
    const load = startLoad({ port: p.port, concurrency: 4, requests: 200 });
    await load.done;
    const metrics = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
    const served = [1, 2].map((w) => Number(new RegExp(`^rocket_requests_total\\{worker="${w}",code="2xx"\\} (\\d+)$`, 'm').exec(metrics)?.[1]));
    expect(served[0]! + served[1]!).toBeGreaterThanOrEqual(200);
    expect(metrics).toMatch(/^rocket_request_duration_seconds_count\{worker="2"\} \d+$/m);
    expect(metrics.match(/^# TYPE rocket_requests_total counter$/gm)).toHaveLength(1);
    await expect.poll(() => p.out(), { timeout: 10_000 }).toMatch(/^access 127\.0\.0\.1 - "GET \/\?c=\d+&n=\d+ HTTP\/1\.1" - 200 \d+ worker=[12]$/m);
    p.proc.kill('SIGTERM');
    expect(await p.exited).toEqual([0, null]);
  });

  test('a worker that dies is started again; SIGTTIN adds a worker and SIGTTOU removes one', async () => {
    const p = await ready({ WORKERS: '2' });
    const before = await p.workers();
    const crashed = await fetch(`http://127.0.0.1:${p.port}/crash`).then(
      () => 'answered',
      () => 'closed',
    );
    expect(crashed).toBe('closed');
    await expect.poll(() => p.out(), { timeout: 10_000 }).toMatch(/^warn .*worker [12] exited with code 3; starting it again in 100 ms$/m);
    await expect.poll(async () => {
      const now = await p.workers();
      return Object.keys(now).length === 2 && Object.values(now).some((pid) => !Object.values(before).includes(pid));
    }, { timeout: 10_000 }).toBe(true);
    p.proc.kill('SIGTTIN');
    await expect.poll(async () => Object.keys(await p.workers()), { timeout: 10_000 }).toEqual(['1', '2', '3']);
    p.proc.kill('SIGTTOU');
    await expect.poll(async () => Object.keys(await p.workers()), { timeout: 10_000 }).toEqual(['1', '2']);
    expect((await fetch(`http://127.0.0.1:${p.port}/`)).status).toBe(200);
    p.proc.kill('SIGTERM');
    expect(await p.exited).toEqual([0, null]);
  });

  test('SIGTERM while a worker is still starting stops them all, and the primary exits 0', async () => {
    const p = await primary({ WORKERS: '2', HOLD_WORKER: '2' });
    await expect.poll(() => /holding (\d+)|failed/.exec(p.out())?.[0], { timeout: 10_000 }).toBeTruthy();
    p.proc.kill('SIGTERM');
    process.kill(Number(/holding (\d+)/.exec(p.out())![1]), 'SIGUSR2');
    expect(await p.exited).toEqual([0, null]);
    expect(p.out()).toContain('stopped');
    expect(p.out()).not.toMatch(/^(warn|error) /m);
  });

  test('SIGTERM to the whole process group (systemd, a terminal) stops within the bound, no worker killed', async () => {
    const proc = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WORKERS: '2' }, detached: true });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
    proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const exited = once(proc, 'exit');
    try {
      await expect.poll(() => /ready (\d+)|failed/.exec(out)?.[0], { timeout: 10_000 }).toMatch(/ready/);
      expect((await fetch(`http://127.0.0.1:${/ready (\d+)/.exec(out)![1]}/`)).status).toBe(200);
      const signalled = Date.now();
      process.kill(-proc.pid!, 'SIGTERM');
      expect(await exited).toEqual([0, null]);
      // The fixture's shutdownTimeout is 10 s: with nothing in flight, a stop takes far less.
      expect(Date.now() - signalled).toBeLessThan(5000);
      expect(out).toContain('stopped');
      expect(out).not.toMatch(/^(warn|error) /m);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid!, 'SIGKILL');
    }
  }, 30_000);

  test('a worker that cannot start fails start() with a message naming it', async () => {
    const p = await primary({ WORKERS: '2', CRASH: 'boot' });
    expect((await p.exited)[0]).toBe(1);
    expect(p.out()).toMatch(/^failed worker [12] \(pid \d+\) exited with code 1 before it was listening$/m);
  });

  test('a crash loop stops the server with a clear message and exit code 1', async () => {
    const p = await primary({ WORKERS: '1', CRASH: 'soon' });
    expect(await p.exited).toEqual([1, null]);
    expect(p.out()).toMatch(/^error .*worker 1 exited 5 times in a row within 5 s of starting \(last: code 2\); giving up and stopping$/m);
    expect(p.out()).toContain('stopped');
  });

  test('rocket --workers 2 serves from two processes and stops on SIGTERM', async () => {
    const p = await primary({}, [CLI, '-p', '0', '--workers', '2']);
    await expect.poll(() => p.out(), { timeout: 10_000 }).toMatch(/on http:\/\/127\.0\.0\.1:\d+\//);
    const port = Number(/127\.0\.0\.1:(\d+)\//.exec(p.out())![1]);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    // The primary alone says where it serves.
    expect(p.count('serving')).toBe(1);
    p.proc.kill('SIGTERM');
    expect(await p.exited).toEqual([0, null]);
  });

  test('a bad worker count is refused, naming the value', async () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: () => [] }, { workers: -1 })).toThrow(/option workers must be an integer ≥ 0 or 'auto' \(got -1\)/);
    const p = await primary({}, [CLI, '-p', '0', '--workers', 'many']);
    expect((await p.exited)[0]).toBe(2);
    expect(p.out()).toContain(`rocket: --workers "many" is not a number`);
  });
});

describe('reusePort', () => {
  test.runIf(!reusePortSupported())('is refused on this Node.js, naming the version', () => {
    const make = () => new Rocket(['127.0.0.1', 8000], 'wsgi', { wsgi_app: () => [] }, { reusePort: true });
    expect(make).toThrow(RocketError);
    expect(make).toThrow(`option reusePort needs Node.js 22.12 or later (23.1 or later on 23); this is Node.js ${process.versions.node}`);
  });

  test.runIf(reusePortSupported())('workers each listen on a socket of their own, and a reload loses nothing', async () => {
    const free = net.createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const port = (free.address() as net.AddressInfo).port;
    free.close();
    const p = await ready({ WORKERS: '2', PORT: String(port), REUSE_PORT: '1' });
    expect(p.port).toBe(port);
    const load = startLoad({ port, concurrency: 10 });
    await load.answered(200);
    p.proc.kill('SIGHUP');
    await expect.poll(() => p.count('reloaded'), { timeout: 15_000 }).toBe(1);
    await load.answered(load.counts.ok + 200);
    load.serverStopping();
    p.proc.kill('SIGTERM');
    expect(await p.exited).toEqual([0, null]);
    const counts = await load.stop();
    expect({ failed: counts.failed, failures: counts.failures }).toEqual({ failed: 0, failures: [] });
  });

  test.runIf(reusePortSupported())('needs a fixed port with workers', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: () => [] }, { workers: 2, reusePort: true })).toThrow(/needs a fixed port/);
  });
});
