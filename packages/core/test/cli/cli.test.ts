/**
 * The `rocket` command, run as users run it: the built bin in a child process.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';

const BIN = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  return { child, exited, out: () => stdout, err: () => stderr };
}

test('rocket -i 127.0.0.1 -p 0 serves the demo page and stops cleanly on SIGTERM', async () => {
  const rocket = run(['-i', '127.0.0.1', '-p', '0']);
  await expect.poll(() => rocket.out(), { timeout: 10_000 }).toMatch(/on http:\/\/127\.0\.0\.1:(\d+)\//);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(rocket.out())![1]);
  const client = await RawClient.connect(port);
  await client.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  const response = await client.readResponse();
  expect(response.status).toBe(200);
  expect(response.header('content-type')).toBe('text/html; charset=utf-8');
  expect(response.body.toString()).toContain('Hello from Rocket Web Server');
  rocket.child.kill('SIGTERM');
  expect(await rocket.exited).toEqual([0, null]);
});

test('rocket --help lists the options from the option table', async () => {
  const rocket = run(['--help']);
  expect((await rocket.exited)[0]).toBe(0);
  expect(rocket.out()).toMatch(/--socket-timeout S\s+seconds without a byte/);
  expect(rocket.out()).toMatch(/--max-header-size BYTES/);
});

test('a bad option value exits 1 with a message naming it', async () => {
  const rocket = run(['-p', '0', '--socket-timeout', 'soon']);
  expect((await rocket.exited)[0]).toBe(1);
  expect(rocket.err()).toMatch(/option socketTimeout must be a number/);
});

test('an unknown flag exits 2 with the usage', async () => {
  const rocket = run(['--nope']);
  expect((await rocket.exited)[0]).toBe(2);
  expect(rocket.err()).toMatch(/Usage: rocket/);
});
