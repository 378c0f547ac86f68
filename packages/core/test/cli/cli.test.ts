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


test('rocket -s DIR serves the files of a folder, with listings; the access log goes to stdout', async () => {
  const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rocket-static-'));
  try {
    writeFileSync(join(dir, 'hello.txt'), 'hello from a file\n');
    mkdirSync(join(dir, 'sub'));
    const rocket = run(['-p', '0', '-s', dir, '--access-log', 'rocket']);
    await expect.poll(() => rocket.out(), { timeout: 10_000 }).toMatch(/serving the files of .* on http:\/\/127\.0\.0\.1:(\d+)\//);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(rocket.out())![1]);
    const client = await RawClient.connect(port);
    await client.write('GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const file = await client.readResponse();
    expect(file.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(file.body.toString()).toBe('hello from a file\n');
    const listing = (await client.readResponse()).body.toString();
    expect(listing).toContain('href="hello.txt"');
    expect(listing).toContain('href="sub/"');
    await expect.poll(() => rocket.out()).toContain('127.0.0.1 - "GET /hello.txt HTTP/1.1" - 200 18');
    rocket.child.kill('SIGTERM');
    expect(await rocket.exited).toEqual([0, null]);
    expect(rocket.err()).not.toMatch(/\[(warn|error)\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rocket -s with a path that is not a folder exits 1 saying so', async () => {
  const rocket = run(['-p', '0', '-s', '/nonexistent/folder']);
  expect((await rocket.exited)[0]).toBe(1);
  expect(rocket.err()).toMatch(/--static: \/nonexistent\/folder is not a folder/);
});
