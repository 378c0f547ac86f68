/**
 * Fastify on Rocket through `serverFactory`: the basics on Fastify 5 and Fastify 4 (routes, JSON
 * bodies, 404, streams, `listen` on the default host and `close`), then the plugins on Fastify 5 —
 * @fastify/static, @fastify/compress, @fastify/multipart, @fastify/websocket.
 */

import fastifyCompress from '@fastify/compress';
import fastifyMultipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import Fastify4 from 'fastify4';
import { once } from 'node:events';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { serverFactory } from '@rocketserver/adapter-fastify';
import { RocketServer } from '@rocketserver/adapter-node';
import { KiB, MiB, noise, RawClient, removeTempDirs, send, sha256, staticDir, tempDir, text, type StaticFiles } from './helpers.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

let files: StaticFiles;
beforeAll(() => {
  files = staticDir();
});
afterAll(removeTempDirs);

type Factory = typeof Fastify;
const versions: [string, Factory][] = [
  ['Fastify 5', Fastify],
  ['Fastify 4', Fastify4 as unknown as Factory],
];

/** A Fastify app served by Rocket (closed after the test). */
function rocketFastify(factory: Factory = Fastify, options: Record<string, unknown> = {}): FastifyInstance {
  const app = factory({ serverFactory, ...options } as Parameters<Factory>[0]) as unknown as FastifyInstance;
  apps.push(app);
  return app;
}

/** Listen on 127.0.0.1, port 0: the base URL. */
async function start(app: FastifyInstance): Promise<{ url: string; port: number }> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port };
}

describe.each(versions)('%s basics', (_name, factory) => {
  const basicApp = () => {
    const app = rocketFastify(factory);
    app.get('/hello/:name', async (req) => ({ hello: (req.params as { name: string }).name, query: req.query }));
    app.post(
      '/items',
      { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, qty: { type: 'integer' } } } } },
      async (req, reply) => {
        reply.code(201).header('x-item', 'created');
        return { created: req.body };
      },
    );
    app.get('/stream', (_req, reply) => {
      const data = noise(2 * MiB, 41);
      reply.type('application/octet-stream').send(
        Readable.from(
          (function* () {
            for (let i = 0; i < data.length; i += 64 * KiB) yield data.subarray(i, i + 64 * KiB);
          })(),
        ),
      );
    });
    app.get('/fail', async () => {
      throw Object.assign(new Error('nope'), { statusCode: 418 });
    });
    return app;
  };

  test('the server comes from the factory: a Rocket-served http.Server', async () => {
    const app = basicApp();
    await start(app);
    expect(app.server).toBeInstanceOf(RocketServer);
    expect((app.server as RocketServer).rocket).not.toBeNull();
  });

  test('routes with params and query; JSON replies', async () => {
    const app = basicApp();
    const { url } = await start(app);
    const reply = await send(`${url}/hello/w%C3%B6rld?x=1&y=two`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.headers['content-length']).toBe(String(reply.body.length));
    expect(JSON.parse(reply.text)).toEqual({ hello: 'wörld', query: { x: '1', y: 'two' } });
  });

  test('a JSON body is parsed and validated', async () => {
    const app = basicApp();
    const { url } = await start(app);
    const created = await send(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pen', qty: 3 }) });
    expect(created.status).toBe(201);
    expect(created.headers['x-item']).toBe('created');
    expect(JSON.parse(created.text)).toEqual({ created: { name: 'pen', qty: 3 } });
    const chunked = await send(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cup' }), chunked: true });
    expect(chunked.status).toBe(201);
    expect(JSON.parse(chunked.text)).toEqual({ created: { name: 'cup' } });
    const invalid = await send(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qty: 'many' }) });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' });
    const broken = await send(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(broken.status).toBe(400);
  });

  test('an unknown route is 404 with Fastify’s JSON; a thrown error keeps its status', async () => {
    const app = basicApp();
    const { url } = await start(app);
    const missing = await send(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ message: 'Route GET:/nope not found', error: 'Not Found', statusCode: 404 });
    const failed = await send(`${url}/fail`);
    expect(failed.status).toBe(418);
    expect(JSON.parse(failed.text)).toMatchObject({ statusCode: 418, message: 'nope' });
  });

  test('a 2 MiB stream reply arrives intact (Fastify waits for drain)', async () => {
    const app = basicApp();
    const { url } = await start(app);
    const reply = await send(`${url}/stream`);
    expect(reply.status).toBe(200);
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(sha256(reply.body)).toBe(sha256(noise(2 * MiB, 41)));
  });

  test('HEAD is answered for GET routes with the GET headers and no body', async () => {
    const app = basicApp();
    const { port } = await start(app);
    const client = await RawClient.connect(port);
    try {
      await client.write('HEAD /hello/x HTTP/1.1\r\nHost: x\r\n\r\n');
      const head = await client.readResponse({ head: true });
      expect(head.status).toBe(200);
      expect(head.header('content-type')).toBe('application/json; charset=utf-8');
      expect(head.header('content-length')).toBe(String(JSON.stringify({ hello: 'x', query: {} }).length));
      await client.write('GET /hello/y HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(JSON.parse((await client.readResponse()).body.toString())).toEqual({ hello: 'y', query: {} });
    } finally {
      client.destroy();
    }
  });

  test('close() lets a request in flight finish, then completes', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const app = rocketFastify(factory);
    app.get('/slow', async () => {
      arrived();
      await released;
      return { slow: 'done' };
    });
    const { url } = await start(app);
    const pending = send(`${url}/slow`);
    await inFlight;
    const closing = app.close();
    release();
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ slow: 'done' });
    await closing;
    expect(app.server.listening).toBe(false);
  });

  test('listen({ port: 0 }) on the default host (localhost), then close() completes', async () => {
    const app = rocketFastify(factory);
    app.get('/', async () => ({ ok: true }));
    const address = await app.listen({ port: 0 });
    expect(address).toMatch(/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/);
    const { port } = app.server.address() as AddressInfo;
    expect(port).toBeGreaterThan(0);
    expect(app.server.listening).toBe(true);
    // Every address Fastify reports answers.
    for (const bound of app.addresses() as AddressInfo[]) {
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      const response = await fetch(`http://${host}:${bound.port}/`);
      expect(await response.json()).toEqual({ ok: true });
    }
    expect(await (await fetch(`http://localhost:${port}/`)).json()).toEqual({ ok: true });
    // A keep-alive connection stays open (fetch keeps it): close() must not wait for it.
    await app.close();
    expect(app.server.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});

/** A client-to-server WebSocket text frame (clients must mask). */
function maskedTextFrame(message: string): Buffer {
  const payload = Buffer.from(message);
  if (payload.length > 125) throw new Error('short frames only');
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i % 4]!;
  return frame;
}

describe('Fastify 5 plugins', () => {
  describe('@fastify/static', () => {
    const staticApp = async () => {
      const app = rocketFastify();
      await app.register(fastifyStatic, { root: files.dir, prefix: '/public/' });
      app.get('/download', (_req, reply) => reply.sendFile('style.css'));
      return app;
    };

    test('files with their type, length, ETag; reply.sendFile', async () => {
      const { url } = await start(await staticApp());
      const hello = await send(`${url}/public/hello.txt`);
      expect(hello.status).toBe(200);
      expect(hello.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(hello.headers['content-length']).toBe(String(files.hello.length));
      expect(hello.headers['etag']).toMatch(/^W\/".+"$/);
      expect(hello.text).toBe(files.hello);
      const css = await send(`${url}/download`);
      expect(css.status).toBe(200);
      expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
      expect(css.text).toBe(files.css);
    });

    test('If-None-Match → 304 without a body', async () => {
      const { url } = await start(await staticApp());
      const first = await send(`${url}/public/hello.txt`);
      const cached = await send(`${url}/public/hello.txt`, { headers: { 'if-none-match': first.headers['etag']! } });
      expect(cached.status).toBe(304);
      expect(cached.body.length).toBe(0);
    });

    test('Range → 206 with the slice; beyond the end → 416', async () => {
      const { url } = await start(await staticApp());
      const part = await send(`${url}/public/big.bin`, { headers: { range: 'bytes=100-1123' } });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes 100-1123/${files.big.length}`);
      expect(part.body.equals(files.big.subarray(100, 1124))).toBe(true);
      const bad = await send(`${url}/public/hello.txt`, { headers: { range: 'bytes=900-999' } });
      expect(bad.status).toBe(416);
      expect(bad.headers['content-range']).toBe(`bytes */${files.hello.length}`);
    });

    test('a 2 MiB file arrives intact; HEAD has its length; a missing file is 404', async () => {
      const { url, port } = await start(await staticApp());
      const big = await send(`${url}/public/big.bin`);
      expect(big.status).toBe(200);
      expect(big.headers['content-length']).toBe(String(files.big.length));
      expect(sha256(big.body)).toBe(sha256(files.big));
      const client = await RawClient.connect(port);
      try {
        await client.write('HEAD /public/big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
        const head = await client.readResponse({ head: true });
        expect(head.status).toBe(200);
        expect(head.header('content-length')).toBe(String(files.big.length));
        await client.write('GET /public/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
        expect((await client.readResponse()).body.toString()).toBe(files.hello);
      } finally {
        client.destroy();
      }
      const missing = await send(`${url}/public/nope.txt`);
      expect(missing.status).toBe(404);
    });
  });

  describe('@fastify/compress', () => {
    const big = text(3 * MiB / 2);
    const streamed = text(2 * MiB + 77);

    const compressApp = async () => {
      const app = rocketFastify();
      await app.register(fastifyCompress, { global: true, threshold: 1024 });
      app.get('/big', (_req, reply) => reply.type('text/plain').send(big));
      app.get('/small', (_req, reply) => reply.type('text/plain').send('small'));
      app.get('/json', async () => ({ items: Array.from({ length: 500 }, (_, i) => ({ i, label: `item ${i}` })) }));
      app.get('/stream', (_req, reply) => {
        reply.type('text/plain').send(
          Readable.from(
            (function* () {
              for (let i = 0; i < streamed.length; i += 32 * KiB) yield Buffer.from(streamed.slice(i, i + 32 * KiB));
            })(),
          ),
        );
      });
      return app;
    };

    test('gzip: a 1.5 MiB body compressed and intact', async () => {
      const { url } = await start(await compressApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(reply.headers['vary']).toContain('accept-encoding');
      expect(reply.headers['content-length']).toBeUndefined();
      expect(reply.body.length).toBeLessThan(big.length / 2);
      expect(reply.decoded().toString()).toBe(big);
    });

    test('br when the client accepts it; JSON replies are compressed too', async () => {
      const { url } = await start(await compressApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(reply.headers['content-encoding']).toBe('br');
      expect(reply.decoded().toString()).toBe(big);
      const json = await send(`${url}/json`, { headers: { 'accept-encoding': 'gzip' } });
      expect(json.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(json.decoded().toString()).items).toHaveLength(500);
    });

    test('a 2 MiB stream reply compressed as it streams', async () => {
      const { url } = await start(await compressApp());
      const reply = await send(`${url}/stream`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(reply.decoded().toString()).toBe(streamed);
    });

    test('below the threshold, or without Accept-Encoding, nothing is compressed', async () => {
      const { url } = await start(await compressApp());
      const small = await send(`${url}/small`, { headers: { 'accept-encoding': 'gzip' } });
      expect(small.headers['content-encoding']).toBeUndefined();
      expect(small.text).toBe('small');
      const plain = await send(`${url}/big`);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.text).toBe(big);
    });
  });

  describe('@fastify/multipart', () => {
    const multipartApp = async (dir: string) => {
      const app = rocketFastify();
      await app.register(fastifyMultipart, { limits: { fileSize: 8 * MiB } });
      app.post('/parts', async (req) => {
        const fields: Record<string, string> = {};
        const uploads: { field: string; filename: string; mimetype: string; size: number; sha: string }[] = [];
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            const buffer = await part.toBuffer();
            uploads.push({ field: part.fieldname, filename: part.filename, mimetype: part.mimetype, size: buffer.length, sha: sha256(buffer) });
          } else {
            fields[part.fieldname] = String(part.value);
          }
        }
        return { fields, uploads };
      });
      app.post('/disk', async (req) => {
        const data = await req.file();
        if (data === undefined) throw Object.assign(new Error('no file'), { statusCode: 400 });
        const target = path.join(dir, path.basename(data.filename));
        await pipeline(data.file, createWriteStream(target));
        return { path: target, truncated: data.file.truncated };
      });
      app.post('/limited', async (req) => {
        const data = await req.file({ limits: { fileSize: 16 * KiB } });
        const buffer = await data!.toBuffer();
        return { size: buffer.length };
      });
      app.get('/ping', async () => 'pong');
      return app;
    };

    test('req.parts(): files and fields', async () => {
      const { url } = await start(await multipartApp(tempDir()));
      const a = noise(40 * KiB, 51);
      const b = Buffer.from('plain text file\n');
      const form = new FormData();
      form.append('user', 'ann');
      form.append('a', new Blob([a], { type: 'application/octet-stream' }), 'a.bin');
      form.append('b', new Blob([b], { type: 'text/plain' }), 'b.txt');
      form.append('comment', 'done');
      const response = await fetch(`${url}/parts`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        fields: { user: 'ann', comment: 'done' },
        uploads: [
          { field: 'a', filename: 'a.bin', mimetype: 'application/octet-stream', size: a.length, sha: sha256(a) },
          { field: 'b', filename: 'b.txt', mimetype: 'text/plain', size: b.length, sha: sha256(b) },
        ],
      });
    });

    test('a 3 MiB file streamed to disk is byte for byte what was sent', async () => {
      const dir = tempDir('rocket-fastify-multipart-');
      const { url } = await start(await multipartApp(dir));
      const big = noise(3 * MiB, 52);
      const form = new FormData();
      form.append('file', new Blob([big]), 'upload.bin');
      const response = await fetch(`${url}/disk`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const json = (await response.json()) as { path: string; truncated: boolean };
      expect(json.truncated).toBe(false);
      expect(readdirSync(dir)).toEqual(['upload.bin']);
      expect(sha256(readFileSync(json.path))).toBe(sha256(big));
    });

    test('a file over limits.fileSize is 413 FST_REQ_FILE_TOO_LARGE; the server carries on', async () => {
      const { url } = await start(await multipartApp(tempDir()));
      const form = new FormData();
      form.append('file', new Blob([noise(200 * KiB, 53)]), 'big.bin');
      const response = await fetch(`${url}/limited`, { method: 'POST', body: form });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'FST_REQ_FILE_TOO_LARGE', statusCode: 413 });
      expect(await (await fetch(`${url}/ping`)).text()).toBe('pong');
    });
  });

  describe('@fastify/websocket', () => {
    const wsApp = async () => {
      const app = rocketFastify();
      await app.register(fastifyWebsocket);
      const closes: number[] = [];
      app.register(async (scope) => {
        scope.get('/ws', { websocket: true }, (socket, req) => {
          socket.send(`welcome ${(req.query as { name?: string }).name ?? 'anon'}`);
          socket.on('message', (message: Buffer, isBinary: boolean) => {
            if (isBinary) socket.send(message, { binary: true });
            else socket.send(`echo:${message.toString()}`);
          });
          socket.on('close', (code: number) => closes.push(code));
        });
        scope.get('/plain', async () => ({ plain: true }));
      });
      return { app, closes };
    };

    /** Open a client and collect what it receives. */
    const connect = async (url: string) => {
      const client = new WebSocket(url);
      const messages: (string | Buffer)[] = [];
      client.on('message', (data: Buffer, isBinary: boolean) => messages.push(isBinary ? data : data.toString()));
      await once(client, 'open');
      return { client, messages };
    };

    test('a ws client exchanges text and binary messages with a { websocket: true } route', async () => {
      const { app, closes } = await wsApp();
      const { port } = await start(app);
      const { client, messages } = await connect(`ws://127.0.0.1:${port}/ws?name=ann`);
      await expect.poll(() => messages).toEqual(['welcome ann']);
      client.send('hello');
      client.send('again');
      await expect.poll(() => messages).toEqual(['welcome ann', 'echo:hello', 'echo:again']);
      const blob = noise(MiB, 61);
      client.send(blob);
      await expect.poll(() => messages.length).toBe(4);
      expect(Buffer.isBuffer(messages[3])).toBe(true);
      expect(sha256(messages[3] as Buffer)).toBe(sha256(blob));
      client.close(4000, 'bye');
      const [code] = await once(client, 'close');
      expect(code).toBe(4000);
      await expect.poll(() => closes).toEqual([4000]);
    });

    test('a frame sent right behind the upgrade request (the head bytes) is not lost', async () => {
      const { app } = await wsApp();
      const { port } = await start(app);
      const client = await RawClient.connect(port);
      try {
        const upgrade =
          'GET /ws?name=raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
        await client.write(Buffer.concat([Buffer.from(upgrade), maskedTextFrame('early bird')]));
        await expect.poll(() => client.pending.toString('latin1')).toContain('echo:early bird');
        const received = client.pending.toString('latin1');
        expect(received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
        expect(received).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
        expect(received).toContain('welcome raw');
      } finally {
        client.destroy();
      }
    });

    test('ordinary HTTP routes still answer beside the websocket route; unknown upgrades are 404', async () => {
      const { app } = await wsApp();
      const { url, port } = await start(app);
      expect(await (await fetch(`${url}/plain`)).json()).toEqual({ plain: true });
      const client = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
      client.on('error', () => {});
      const [request, response] = (await once(client, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
      expect(response.statusCode).toBe(404);
      request.destroy();
    });

    test('fastify.close() closes open websockets with a close frame and completes', async () => {
      const { app } = await wsApp();
      const { port } = await start(app);
      const { client, messages } = await connect(`ws://127.0.0.1:${port}/ws`);
      await expect.poll(() => messages).toEqual(['welcome anon']);
      const closed = once(client, 'close');
      await app.close();
      const [code] = await closed;
      // The plugin's preClose calls client.close() without a code: a clean close frame with no
      // status (1005), not a dropped connection (1006).
      expect(code).toBe(1005);
      expect(app.server.listening).toBe(false);
    });
  });
});
