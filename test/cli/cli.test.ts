/**
 * `rocket ./app.js[:name]`: the command detects what a module exports and serves it — a gateway
 * app, an Express app, a Koa app, a Fastify instance (with its websocket routes), a request listener.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import WebSocket from 'ws';

const BIN = fileURLToPath(new URL('../../packages/core/dist/cli.js', import.meta.url));
const APPS = fileURLToPath(new URL('./apps/', import.meta.url));

async function rocket(...args: string[]) {
  const child = spawn(process.execPath, [BIN, '-p', '0', ...args], { cwd: APPS, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  await expect.poll(() => out, { timeout: 10_000 }).toMatch(/serving .* on http:\/\/127\.0\.0\.1:\d+\/|rocket: /);
  const port = Number(/127\.0\.0\.1:(\d+)\//.exec(out)?.[1]);
  return {
    port,
    out: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    exited,
  };
}

test.each([
  ['gateway.mjs', 'gateway app', 'gateway /'],
  ['express-app.mjs', 'Express app', 'express'],
  ['koa-app.mjs', 'Koa app', 'koa'],
  ['fastify-app.mjs', 'Fastify instance', 'fastify'],
  ['listeners.mjs:api', 'request listener', 'listener /'],
])('rocket %s serves it as a %s', async (module, kind, body) => {
  const served = await rocket(module);
  expect(served.out()).toContain(`serving ${kind}`);
  const response = await fetch(`http://127.0.0.1:${served.port}/`);
  expect(await response.text()).toBe(body);
  expect(await served.stop()).toEqual([0, null]);
});

test('a Fastify instance keeps its websocket routes', async () => {
  const served = await rocket('fastify-app.mjs');
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws`);
  await once(ws, 'open');
  ws.send('hi');
  const [message] = await once(ws, 'message');
  expect(String(message)).toBe('echo hi');
  ws.close();
  expect(await served.stop()).toEqual([0, null]);
});

test('--type settles what the shape does not tell', async () => {
  const served = await rocket('--type', 'gateway', 'listeners.mjs:odd');
  expect(await (await fetch(`http://127.0.0.1:${served.port}/`)).text()).toBe('forced object');
  expect(await served.stop()).toEqual([0, null]);
});

test('a missing export is an error naming it', async () => {
  const served = await rocket('listeners.mjs:nope');
  expect((await served.exited)[0]).toBe(1);
  expect(served.out()).toMatch(/listeners\.mjs has no export named "nope"/);
});

test('a syntax error in the app module names the file and the line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocket-app-'));
  try {
    const file = join(dir, 'broken.mjs');
    writeFileSync(file, "import express from 'express';\n\nexport default (req, res) => {\n  res.end([});\n};\n");
    const served = await rocket(file);
    expect((await served.exited)[0]).toBe(1);
    expect(served.out()).toContain(`rocket: cannot load ${file}: SyntaxError: Unexpected token '}'\n  at ${file}:4\n  res.end([});\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a syntax error in a CommonJS app module names the file and the line too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocket-app-'));
  try {
    const file = join(dir, 'broken.cjs');
    writeFileSync(file, 'module.exports = function (environ, startResponse) {\n  return [;\n};\n');
    const served = await rocket(file);
    expect((await served.exited)[0]).toBe(1);
    expect(served.out()).toMatch(new RegExp(`rocket: cannot load .*broken\\.cjs: SyntaxError: .*\\n  at .*broken\\.cjs:2\\n`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
