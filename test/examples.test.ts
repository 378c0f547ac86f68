/**
 * Every program in examples/ runs as written: started as a user would, asked over a socket, and
 * stopped with Ctrl-C (SIGINT) or SIGTERM, and ends with status 0 either way.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { makeCerts, type TestCerts } from '../packages/core/test/helpers/certs.js';
import { RawClient } from '../packages/core/test/helpers/raw-client.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

async function start(file: string, args: string[] = [], lines = 1) {
  const child = spawn(process.execPath, [`${EXAMPLES}${file}`, ...args], {
    env: { ...process.env, PORT: '0', TLS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk));
  const exited = once(child, 'exit');
  await expect.poll(() => out.match(/listening on \S+/g)?.length ?? 0, { timeout: 10_000 }).toBe(lines);
  const urls = [...out.matchAll(/listening on (https?):\/\/[^:]+:(\d+)(\S*)/g)].map((m) => ({
    secure: m[1] === 'https',
    port: Number(m[2]),
    path: m[3]!,
  }));
  return {
    urls,
    async stop() {
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    },
    /** Ctrl-C: SIGINT, then what the program printed; it must exit cleanly, without a stack. */
    async interrupt() {
      child.kill('SIGINT');
      expect((await exited)[0]).toBe(0);
      expect(out).not.toMatch(/^\s+at /m);
      return out;
    },
  };
}

async function get(url: { secure: boolean; port: number; path: string }, method = 'GET', body = '') {
  const client = url.secure ? await RawClient.connectTls(url.port, { ca: certs.read(certs.caCert) }) : await RawClient.connect(url.port);
  await client.write(`${method} ${url.path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  const response = await client.readResponse();
  client.destroy();
  return response;
}

test('hello-gateway.mjs', async () => {
  const example = await start('hello-gateway.mjs');
  const response = await get(example.urls[0]!, 'POST', 'abc');
  expect(response.body.toString()).toBe('Hello from Rocket: POST /, 3 bytes of body\n');
  await example.stop();
});

test('streaming.mjs', async () => {
  const example = await start('streaming.mjs');
  const response = await get(example.urls[0]!);
  expect(response.header('transfer-encoding')).toBe('chunked');
  expect(response.body.toString()).toBe('5…\n4…\n3…\n2…\n1…\nliftoff\n');
  await example.interrupt();
});

test('https.mjs', async () => {
  const example = await start('https.mjs', [certs.serverKey, certs.serverCert], 2);
  const [plain, secure] = example.urls;
  expect((await get(plain!)).body.toString()).toBe('scheme: http\n');
  expect((await get(secure!)).body.toString()).toBe('scheme: https\n');
  await example.interrupt();
});

test('express.mjs', async () => {
  const example = await start('express.mjs');
  expect((await get(example.urls[0]!)).body.toString()).toBe('Hello from Express on Rocket\n');
  const url = example.urls[0]!;
  const response = await fetch(`http://127.0.0.1:${url.port}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  expect(await response.json()).toEqual({ received: { a: 1 } });
  await example.interrupt();
});

test('koa.mjs', async () => {
  const example = await start('koa.mjs');
  expect(JSON.parse((await get(example.urls[0]!)).body.toString())).toEqual({ hello: 'from Koa on Rocket', path: '/' });
  await example.interrupt();
});

test('fastify.mjs', async () => {
  const example = await start('fastify.mjs');
  expect(JSON.parse((await get(example.urls[0]!)).body.toString())).toEqual({ hello: 'from Fastify on Rocket' });
  await example.interrupt();
});

test('node-http.mjs', async () => {
  const example = await start('node-http.mjs');
  const response = await fetch(`http://127.0.0.1:${example.urls[0]!.port}/`);
  expect(await response.text()).toBe('Hello from node:http code on Rocket: GET /\n');
  expect(response.headers.get('keep-alive')).toBe('timeout=65');
  await example.interrupt();
});

test('websocket.mjs', async () => {
  const example = await start('websocket.mjs');
  const ws = new WebSocket(`ws://127.0.0.1:${example.urls[0]!.port}/`);
  await once(ws, 'open');
  ws.send('hi');
  const [message] = await once(ws, 'message');
  expect(String(message)).toBe('echo: hi');
  const closed = once(ws, 'close');
  await example.interrupt();
  const [code] = (await closed) as [number];
  expect(code).toBe(1001);
});

// ---- examples/cherrypy: real CherryPy startup snippets, translated to TypeScript the obvious way ----

const body = async (url: { secure: boolean; port: number; path: string }, path: string) => (await get({ ...url, path })).body.toString();

test('cherrypy/01-docstring.mjs: server_name and a dispatcher', async () => {
  const example = await start('cherrypy/01-docstring.mjs');
  const url = example.urls[0]!;
  expect(await body(url, '/blog/post')).toBe('my_blog_app: SCRIPT_NAME="/blog" PATH_INFO="/post" SERVER_NAME=www.cherrypy.example scheme=http\n');
  expect(await body(url, '/blogger')).toBe('my_crazy_app: SCRIPT_NAME="" PATH_INFO="/blogger" SERVER_NAME=www.cherrypy.example scheme=http\n');
  await example.interrupt();
});

test('cherrypy/02-flask-recipe.mjs: Ctrl-C arrives as KeyboardInterrupt and the except clause stops the server', async () => {
  const example = await start('cherrypy/02-flask-recipe.mjs');
  expect(await body(example.urls[0]!, '/x')).toMatch(/^app: SCRIPT_NAME="" PATH_INFO="\/x"/);
  const lines = await example.interrupt();
  expect(lines).toContain('Keyboard Interrupt: shutting down');
  expect(lines).toContain('stopped by Ctrl-C');
});

test('cherrypy/03-positional.mjs: numthreads and server_name by position, the rest by keyword', async () => {
  const example = await start('cherrypy/03-positional.mjs');
  expect(await body(example.urls[0]!, '/')).toMatch(/^pootle: .* SERVER_NAME=pootle\.example /);
  await example.interrupt();
});

test('cherrypy/04-bottle.mjs: keyword arguments, TLS from attributes set after construction', async () => {
  const plain = await start('cherrypy/04-bottle.mjs');
  expect(await body(plain.urls[0]!, '/')).toMatch(/scheme=http\n$/);
  await plain.interrupt();
  const secure = await start('cherrypy/04-bottle.mjs', [certs.serverCert, certs.serverKey]);
  expect(secure.urls[0]!.secure).toBe(true);
  expect(await body(secure.urls[0]!, '/')).toMatch(/^bottle: .*scheme=https\n$/);
  await secure.stop();
});

test('cherrypy/05-pastescript.mjs: one PEM for certificate and key; protocol HTTP/1.0', async () => {
  const pem = `${certs.dir}/combined.pem`;
  writeFileSync(pem, Buffer.concat([certs.read(certs.serverCert), certs.read(certs.serverKey)]));
  const example = await start('cherrypy/05-pastescript.mjs', [pem]);
  const response = await get(example.urls[0]!);
  expect(response.statusLine).toBe('HTTP/1.0 200 OK');
  expect(response.body.toString()).toMatch(/^paste: .*SERVER_NAME=paste\.example scheme=https\n$/);
  await example.interrupt();
});

test('cherrypy/06-webpy.mjs: class-level ssl_certificate and ssl_private_key', async () => {
  const example = await start('cherrypy/06-webpy.mjs', [certs.serverCert, certs.serverKey]);
  expect(await body(example.urls[0]!, '/')).toMatch(/^webpy: .*SERVER_NAME=localhost scheme=https\n$/);
  await example.interrupt();
});

test('cherrypy/07-wsgidav.mjs: class-level version and ssl_adapter; the version is the Server header', async () => {
  const example = await start('cherrypy/07-wsgidav.mjs', [certs.serverCert, certs.serverKey]);
  const response = await get(example.urls[0]!);
  expect(response.header('server')).toBe('WsgiDAV/4.0 Rocket');
  expect(response.body.toString()).toMatch(/^wsgidav: .*scheme=https\n$/);
  await example.interrupt();
});

test('cherrypy/08-pyas2.mjs: get_ssl_adapter_class and a two-mount dispatcher', async () => {
  const example = await start('cherrypy/08-pyas2.mjs', [certs.serverCert, certs.serverKey]);
  const url = example.urls[0]!;
  expect(await body(url, '/static/app.css')).toBe('servestaticfiles: SCRIPT_NAME="/static" PATH_INFO="/app.css" SERVER_NAME=pyas2-webserver scheme=https\n');
  expect(await body(url, '/admin')).toMatch(/^servedjango: SCRIPT_NAME="" PATH_INFO="\/admin"/);
  await example.interrupt();
});

test('cherrypy/09-list-of-pairs.mjs: a list of (mount point, app) pairs as the app', async () => {
  const example = await start('cherrypy/09-list-of-pairs.mjs');
  expect(await body(example.urls[0]!, '/api/v1')).toMatch(/^api: SCRIPT_NAME="\/api" PATH_INFO="\/v1"/);
  await example.interrupt();
});
