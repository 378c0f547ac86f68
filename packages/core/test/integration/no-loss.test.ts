/**
 * Restart and stop under load: clients on keep-alive connections send request after request
 * while the server restarts and stops, and every request sent is answered — served, or 503 with
 * Connection: close. Connection attempts refused once the listeners are closed are counted apart.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Rocket, type GatewayApp } from '@rocketserver/core';
import { startLoad } from '../../../../test/helpers/load.mjs';
import { RawClient } from '../helpers/raw-client.js';
import { memoryLogger } from '../helpers/server.js';

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

/** An app that takes about 5 ms, as a small real handler would. */
const app: GatewayApp = async (environ, startResponse) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  const close: [string, string][] = environ.PATH_INFO === '/close' ? [['Connection', 'close']] : [];
  startResponse('200 OK', [['Content-Type', 'text/plain'], ...close]);
  return [`ok ${environ.QUERY_STRING}`];
};

/**
 * Every connection the load opened reached the server, except those refused and those reset
 * unaccepted when the listener closed: the server's own count says so.
 */
function expectEveryConnectionAccounted(server: Rocket, counts: { connections: number; refused: number; unaccepted: number }[]) {
  const opened = counts.reduce((sum, c) => sum + c.connections - c.refused - c.unaccepted, 0);
  expect(server.stats().connections.accepted).toBe(opened);
}

async function started(options = {}) {
  const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { handleSignals: false, logger: memoryLogger(), ...options });
  await server.start();
  return { server, port: server.addresses[0]!.port };
}

describe('no request is lost', () => {
  test('through five restarts and a stop, with 20 concurrent keep-alive clients', async () => {
    const { server, port } = await started();
    const load = startLoad({ port, concurrency: 20 });
    let answered = 0;
    for (let i = 0; i < 5; i++) {
      answered += 200;
      await load.answered(answered);
      await server.restart({ timeout: 10 });
    }
    await load.answered(answered + 200);
    await server.stop({ timeout: 10 });
    const counts = await load.stop();
    expect(counts.failures).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.sent).toBe(counts.ok + counts.unavailable + counts.unaccepted);
    expect(counts.ok).toBeGreaterThan(1000);
    expectEveryConnectionAccounted(server, [counts]);
  });

  test('restarts back to back while new connections keep arriving', async () => {
    const { server, port } = await started();
    // Short keep-alive bursts: most requests come on new connections.
    const load = startLoad({ port, concurrency: 20, path: '/close' });
    const closing = startLoad({ port, concurrency: 5 });
    await load.answered(100);
    for (let i = 0; i < 5; i++) await server.restart({ timeout: 10 });
    await load.answered(load.counts.ok + 100);
    await server.stop({ timeout: 10 });
    const counts = await load.stop();
    const other = await closing.stop();
    expect([counts.failures, other.failures]).toEqual([[], []]);
    expect(counts.failed + other.failed).toBe(0);
    expect(counts.sent).toBe(counts.ok + counts.unavailable + counts.unaccepted);
    expectEveryConnectionAccounted(server, [counts, other]);
  });
});

describe('an idle connection is closed only with nothing unread on it', () => {
  test('a request sent as the stop begins, not read yet, is served with Connection: close', async () => {
    const { server, port } = await started();
    const client = await RawClient.connect(port);
    await client.write(request('/first'));
    expect((await client.readResponse()).header('connection')).toBe('keep-alive');
    // The request is in the system's buffers, but the event loop has not read it when stop() begins.
    client.socket.write(request('/second'));
    const stopped = server.stop({ timeout: 10 });
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok ');
    expect(response.header('connection')).toBe('close');
    await client.waitEnd();
    await stopped;
  });

  test('the same at a restart, and at the keep-alive timeout', async () => {
    const { server, port } = await started({ timeout: 0.05 });
    const client = await RawClient.connect(port);
    await client.write(request('/first'));
    await client.readResponse();
    client.socket.write(request('/second'));
    const restarted = server.restart({ timeout: 10 });
    expect((await client.readResponse()).header('connection')).toBe('close');
    await client.waitEnd();
    await restarted;
    const again = await RawClient.connect(port);
    await again.write(request('/first'));
    await again.readResponse();
    // Idle past the timeout: closed, silently.
    await again.waitEnd();
    await server.stop();
  });

  test('a request pipelined behind a keep-alive response that was already on its way is served', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated: GatewayApp = async (environ, startResponse) => {
      const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/stream') {
        // The head goes out (promising keep-alive) before the stop begins.
        write('part;');
        await gate;
      }
      return [environ.PATH_INFO];
    };
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: gated }, { handleSignals: false, logger: memoryLogger() });
    await server.start();
    const client = await RawClient.connect(server.addresses[0]!.port);
    await client.write(request('/stream') + request('/next'));
    await expect.poll(() => client.pending.length).toBeGreaterThan(0);
    const stopped = server.stop({ timeout: 10 });
    release();
    const first = await client.readResponse();
    expect(first.header('connection')).toBe('keep-alive');
    const second = await client.readResponse();
    expect(second.body.toString()).toBe('/next');
    expect(second.header('connection')).toBe('close');
    await stopped;
  });

  test('a connection idle for a while is closed at once by a stop', async () => {
    const { server, port } = await started();
    const client = await RawClient.connect(port);
    await client.write(request('/first'));
    await client.readResponse();
    // Idle longer than the last call a connection in use gets.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const began = Date.now();
    await server.stop({ timeout: 10 });
    await client.waitEnd();
    expect(Date.now() - began).toBeLessThan(200);
  });
});

describe('no request is lost, with signals in a child process', () => {
  const FIXTURE = fileURLToPath(new URL('../fixtures/load-server.mjs', import.meta.url));

  test('through SIGHUP restarts and a SIGTERM stop', async () => {
    const proc = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk));
    proc.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const exited = once(proc, 'exit') as Promise<[number | null, string | null]>;
    await expect.poll(() => /ready (\d+)/.exec(out)?.[1], { timeout: 10_000 }).toBeTruthy();
    const load = startLoad({ port: Number(/ready (\d+)/.exec(out)![1]), concurrency: 20 });
    let answered = 0;
    for (let i = 1; i <= 3; i++) {
      answered += 200;
      await load.answered(answered);
      proc.kill('SIGHUP');
      await expect.poll(() => out.split('restarting').length - 1).toBe(i);
    }
    await load.answered(answered + 200);
    proc.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    const counts = await load.stop();
    expect(counts.failures).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.sent).toBe(counts.ok + counts.unavailable + counts.unaccepted);
    expect(Number(/accepted (\d+)/.exec(out)?.[1])).toBe(counts.connections - counts.refused - counts.unaccepted);
  });
});
