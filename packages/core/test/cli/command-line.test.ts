/**
 * The `rocket` command line: where it listens (-i/-p, --bind, TLS flags), every option as a flag,
 * --log-level, --help, and the one-line errors (exit status 2) for a command line that is wrong.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OPTIONS } from '../../src/options.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { RawClient } from '../helpers/raw-client.js';

const BIN = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

let scratch: string;
let certs: TestCerts;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'rocket-cli-'));
  certs = makeCerts();
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  certs.remove();
});

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Start the command and wait until it says where it serves (`lines` interfaces). */
async function serve(args: string[], lines = 1) {
  const rocket = run(args);
  await expect.poll(() => rocket.out().match(/ serving .* on \S+/g)?.length ?? rocket.err(), { timeout: 10_000 }).toBe(lines);
  const urls = [...rocket.out().matchAll(/ on (https?:\/\/\S+\/|unix:\S+) \(/g)].map((m) => m[1]!);
  return {
    ...rocket,
    urls,
    async stop() {
      rocket.child.kill('SIGTERM');
      expect(await rocket.exited).toEqual([0, null]);
    },
  };
}

async function get(port: number, head = 'Host: t\r\n') {
  const client = await RawClient.connect(port);
  await client.write(`GET / HTTP/1.1\r\n${head}Connection: close\r\n\r\n`);
  const response = await client.readResponse();
  client.destroy();
  return response;
}

const portOf = (url: string) => Number(/:(\d+)\/$/.exec(url)![1]);

// ---- a wrong command line: one line, status 2, nothing served ----

test.each(['abc', '8000x', 'http', ' 8000', '65536', '0x50', ''])('rocket -p %j exits 2 saying it is not a port', async (port) => {
  const rocket = run(['-i', '127.0.0.1', '-p', port]);
  expect((await rocket.exited)[0]).toBe(2);
  expect(rocket.err()).toBe(`rocket: --port ${JSON.stringify(port)} is not a port: a number from 0 to 65535\n`);
  expect(rocket.out()).toBe('');
  // Nothing was bound, in particular no UNIX socket named after the host or the port.
  expect(readdirSync(scratch)).toEqual([]);
});

test.each([
  [['-b', '::1:8000'], '--bind "::1:8000": an IPv6 address goes in brackets, as in [::1]:8000'],
  [['-b', 'localhost'], '--bind "localhost" is not HOST:PORT, [IPv6]:PORT or unix:PATH'],
  [['-b', 'abc'], '--bind "abc" is not HOST:PORT, [IPv6]:PORT or unix:PATH'],
  [['-b', '127.0.0.1:http'], '--bind "127.0.0.1:http": "http" is not a port: a number from 0 to 65535'],
  [['-b', '[127.0.0.1]:80'], '--bind "[127.0.0.1]:80": brackets are for IPv6 addresses'],
  [['-b', 'unix:'], '--bind "unix:": unix: needs a socket path'],
  [['-b', '127.0.0.1:0', '-p', '0'], '--bind and -i/-p both say where to listen: use one or the other'],
  [['--certfile', 'cert.pem'], '--certfile and --keyfile go together'],
  [['--ca-certs', 'ca.pem'], '--ca-certs needs --certfile and --keyfile'],
  [['-b', 'unix:x.sock', '--certfile', 'c', '--keyfile', 'k'], '--certfile serves HTTPS on HOST:PORT interfaces: give one'],
  [['--nope'], 'unknown option --nope (rocket --help lists the options)'],
  [['--no-backlog'], 'unknown option --no-backlog (rocket --help lists the options)'],
  [['--socket-timeout', 'soon'], '--socket-timeout "soon" is not a number'],
  [['--max-body-size', '-5'], "Option '--max-body-size' argument is ambiguous. Did you forget"],
  [['--max-body-size=-5'], '--max-body-size "-5" is not a number'],
  [['-p'], "Option '-p, --port <value>' argument missing"],
  [['--min-threads', '0'], '--min-threads must be an integer ≥ 1 (got 0)'],
  [['--protocol', 'HTTP/2'], "--protocol must be 'HTTP/1.1' or 'HTTP/1.0' (got \"HTTP/2\")"],
  [['--log-level', 'loud'], '--log-level must be one of debug, info, warn, error, silent (got "loud")'],
  [['--log-levels', 'Rocket.Monitor'], '--log-levels "Rocket.Monitor" is not CHANNEL=LEVEL (LEVEL one of debug, info, warn, error, silent)'],
  [['--metrics-interface', '9100'], '--metrics-interface "9100" is not HOST:PORT, [IPv6]:PORT or unix:PATH'],
  [['--type', 'rails'], '--type must be one of gateway, listener, express, koa, fastify'],
  [['a.js', 'b.js'], 'one app module at most (got a.js, b.js)'],
])('rocket %j exits 2 with one line saying what is wrong', async (args, message) => {
  const rocket = run(args);
  expect((await rocket.exited)[0]).toBe(2);
  const err = rocket.err();
  expect(err.startsWith(`rocket: ${message}`)).toBe(true);
  expect(err.trimEnd().split('\n')).toHaveLength(1);
  expect(readdirSync(scratch)).toEqual([]);
});

// ---- where to listen ----

test('-b is repeatable: IPv4, IPv6 in brackets and a UNIX socket, each served', async () => {
  const socket = join(scratch, 'rocket.sock');
  const rocket = await serve(['-b', '127.0.0.1:0', '-b', '[::1]:0', '-b', `unix:${socket}`], 3);
  const [v4, v6, unix] = rocket.urls;
  expect(v4).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(v6).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
  expect(unix).toBe(`unix:${socket}`);
  expect(await (await fetch(v4!)).text()).toContain('Hello from Rocket Web Server');
  expect(await (await fetch(v6!)).text()).toContain('Hello from Rocket Web Server');
  const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get({ socketPath: socket, path: '/', headers: { host: 'unix' } }, resolve).once('error', reject),
  );
  expect(response.statusCode).toBe(200);
  response.resume();
  await once(response, 'end');
  await rocket.stop();
  expect(existsSync(socket)).toBe(false);
});

test('--certfile and --keyfile serve HTTPS; --ca-certs asks for client certificates and verifies them', async () => {
  const rocket = await serve(['-b', '127.0.0.1:0', '--certfile', certs.serverCert, '--keyfile', certs.serverKey, '--ca-certs', certs.caCert]);
  expect(rocket.urls[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
  const client = await RawClient.connectTls(portOf(rocket.urls[0]!), {
    ca: certs.read(certs.caCert),
    cert: certs.read(certs.clientCert),
    key: certs.read(certs.clientKey),
  });
  await client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  const response = await client.readResponse();
  client.destroy();
  expect(response.status).toBe(200);
  await rocket.stop();
});

test('a TLS file that cannot be read exits 1 naming it', async () => {
  const rocket = run(['-p', '0', '--certfile', 'missing-cert.pem', '--keyfile', certs.serverKey]);
  expect((await rocket.exited)[0]).toBe(1);
  expect(rocket.err()).toMatch(/missing-cert\.pem/);
});

// ---- options as flags ----

test('--help has a flag for every option a command line can give, in columns that do not touch', async () => {
  const rocket = run(['--help']);
  expect((await rocket.exited)[0]).toBe(0);
  const lines = rocket.out().trimEnd().split('\n');
  for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
  const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  for (const name of Object.keys(OPTIONS).filter((name) => !['logger', 'onClientError', 'onConnection', 'onDrop'].includes(name))) {
    expect(rocket.out()).toMatch(new RegExp(`^  --(\\[no-\\])?${kebab(name)}\\b`, 'm'));
  }
  // Descriptions start in one column, two spaces or more after the flag, or on the next line.
  const flagLines = lines.filter((line) => /^ {2}-/.test(line));
  const columns = new Set(flagLines.filter((line) => /\S {2,}\S/.test(line)).map((line) => /^ {2}\S+(?: \S+)* {2,}/.exec(line)![0].length));
  expect(columns.size).toBe(1);
  const [column] = columns;
  for (const line of lines.filter((line) => /^ {3,}\S/.test(line))) expect(line.search(/\S/)).toBe(column);
});

test('on/off options: --no-require-host serves a request without Host; the last of --x and --no-x wins', async () => {
  const lenient = await serve(['-p', '0', '--no-require-host']);
  expect((await get(portOf(lenient.urls[0]!), '')).status).toBe(200);
  await lenient.stop();
  const strict = await serve(['-p', '0', '--no-require-host', '--require-host']);
  expect((await get(portOf(strict.urls[0]!), '')).status).toBe(400);
  await strict.stop();
});

test('--metrics-interface serves the metrics on an interface of their own', async () => {
  const rocket = await serve(['-p', '0', '--metrics-interface', '127.0.0.1:0', '--server-software', 'Test/1']);
  await expect.poll(() => rocket.out()).toMatch(/Metrics on http:\/\/127\.0\.0\.1:\d+\//);
  const metrics = /Metrics on (\S+)/.exec(rocket.out())![1]!;
  expect(await (await fetch(`${metrics}metrics`)).text()).toMatch(/^rocket_/m);
  expect((await get(portOf(rocket.urls[0]!))).header('server')).toBe('Test/1');
  await rocket.stop();
});

// ---- logging ----

test('the command logs at info by default: start-up lines on stderr, with level and channel', async () => {
  const rocket = await serve(['-p', '0']);
  await expect.poll(() => rocket.err()).toMatch(/^\[info\] Rocket: Listening on sockets: 127\.0\.0\.1:\d+$/m);
  await rocket.stop();
  expect(rocket.err()).toMatch(/^\[info\] Rocket: Stopping Rocket/m);
});

test('--log-level warn hides the start-up lines; --log-level debug shows why a request was refused', async () => {
  const quiet = await serve(['-p', '0', '--log-level', 'warn']);
  expect((await get(portOf(quiet.urls[0]!), 'Bad Header: x\r\n')).status).toBe(400);
  await quiet.stop();
  expect(quiet.err()).toBe('');

  const verbose = await serve(['-p', '0', '--log-level', 'debug']);
  expect((await get(portOf(verbose.urls[0]!), 'Bad Header: x\r\n')).status).toBe(400);
  await expect.poll(() => verbose.err()).toMatch(/^\[debug\] Rocket\.Errors: .*400/m);
  await verbose.stop();
});

test('--log-levels sets one channel: Rocket.Errors at debug, the rest at warn', async () => {
  const rocket = await serve(['-p', '0', '--log-level', 'warn', '--log-levels', 'Rocket.Errors=debug']);
  expect((await get(portOf(rocket.urls[0]!), 'Bad Header: x\r\n')).status).toBe(400);
  await expect.poll(() => rocket.err()).toMatch(/^\[debug\] Rocket\.Errors: .*400/m);
  await rocket.stop();
  expect(rocket.err()).not.toMatch(/\[info\] Rocket:/);
});
