/**
 * Koa 3 and Koa 2 on Rocket: @koa/router (params, 404, 405/501 and OPTIONS from
 * allowedMethods), koa-body (json, urlencoded, multipart to disk), koa-static (files, 304, HEAD,
 * a 2 MiB stream), koa-compress (gzip and br, large bodies, streams, the threshold).
 */

import Router from '@koa/router';
import Koa from 'koa';
import Koa2 from 'koa2';
import { koaBody } from 'koa-body';
import compress from 'koa-compress';
import serve from 'koa-static';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { listen } from '@rocketserver/adapter-koa';
import { closeServers, KiB, MiB, noise, RawClient, removeTempDirs, send, served, sha256, staticDir, tempDir, text, type StaticFiles } from './helpers.js';

afterEach(closeServers);

let files: StaticFiles;
beforeAll(() => {
  files = staticDir();
});
afterAll(removeTempDirs);

const frameworks: [string, typeof Koa][] = [
  ['Koa 3', Koa],
  ['Koa 2', Koa2 as unknown as typeof Koa],
];

describe.each(frameworks)('%s', (_name, Koa) => {
  /** Run `app` on Rocket through the adapter, as `app.listen(0, '127.0.0.1')` would. */
  const start = (app: Koa) => served(listen(app, 0, '127.0.0.1'));

  describe('@koa/router', () => {
    const routerApp = () => {
      const app = new Koa();
      const router = new Router();
      router.get('/users/:id', (ctx) => {
        ctx.body = { id: ctx.params.id };
      });
      router.put('/users/:id', koaBody(), (ctx) => {
        ctx.body = { id: ctx.params.id, update: ctx.request.body };
      });
      router.post('/users', koaBody(), (ctx) => {
        ctx.status = 201;
        ctx.set('Location', '/users/7');
        ctx.body = { created: ctx.request.body };
      });
      const api = new Router({ prefix: '/api/v1' });
      api.get('/files/:dir/:name', (ctx) => {
        ctx.body = `${ctx.params.dir}|${ctx.params.name}|${ctx.url}`;
      });
      app.use(router.routes()).use(router.allowedMethods());
      app.use(api.routes()).use(api.allowedMethods());
      return app;
    };

    test('route params, decoded; the raw URL kept in ctx.url', async () => {
      const { server } = await start(routerApp());
      await request(server).get('/users/42').expect(200, { id: '42' });
      await request(server).get('/users/a%20b%C3%A9').expect(200, { id: 'a bé' });
      const nested = await request(server).get('/api/v1/files/docs/read%20me.txt?v=2').expect(200);
      expect(nested.text).toBe('docs|read me.txt|/api/v1/files/docs/read%20me.txt?v=2');
    });

    test('POST and PUT with bodies through the router', async () => {
      const { server } = await start(routerApp());
      const created = await request(server).post('/users').send({ name: 'Ann' }).expect(201);
      expect(created.headers['location']).toBe('/users/7');
      expect(created.body).toEqual({ created: { name: 'Ann' } });
      await request(server).put('/users/3').send({ name: 'Bo' }).expect(200, { id: '3', update: { name: 'Bo' } });
    });

    test('an unknown path is 404 Not Found', async () => {
      const { url } = await start(routerApp());
      const reply = await send(`${url}/nope`);
      expect(reply.status).toBe(404);
      expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(reply.text).toBe('Not Found');
    });

    test('allowedMethods: 405 with Allow, 501 for an unknown method, OPTIONS lists the methods', async () => {
      const { url } = await start(routerApp());
      const wrong = await send(`${url}/users/42`, { method: 'DELETE' });
      expect(wrong.status).toBe(405);
      expect(wrong.headers['allow']).toBe('HEAD, GET, PUT');
      expect(wrong.text).toBe('Method Not Allowed');
      const unknown = await send(`${url}/users/42`, { method: 'PURGE' });
      expect(unknown.status).toBe(501);
      expect(unknown.text).toBe('Not Implemented');
      const options = await send(`${url}/users/42`, { method: 'OPTIONS' });
      expect(options.status).toBe(200);
      expect(options.headers['allow']).toBe('HEAD, GET, PUT');
      expect(options.headers['content-length']).toBe('0');
      expect(options.body.length).toBe(0);
    });

    test('HEAD on a GET route: the GET headers, no body, the connection stays usable', async () => {
      const { port } = await start(routerApp());
      const client = await RawClient.connect(port);
      try {
        await client.write('HEAD /users/42 HTTP/1.1\r\nHost: x\r\n\r\n');
        const head = await client.readResponse({ head: true });
        expect(head.status).toBe(200);
        expect(head.header('content-type')).toBe('application/json; charset=utf-8');
        expect(head.header('content-length')).toBe(String(JSON.stringify({ id: '42' }).length));
        await client.write('GET /users/43 HTTP/1.1\r\nHost: x\r\n\r\n');
        expect(JSON.parse((await client.readResponse()).body.toString())).toEqual({ id: '43' });
      } finally {
        client.destroy();
      }
    });
  });

  describe('koa-body', () => {
    test('json and urlencoded bodies', async () => {
      const app = new Koa();
      app.use(koaBody());
      app.use((ctx) => {
        ctx.body = { type: ctx.request.type, body: ctx.request.body };
      });
      const { server, url } = await start(app);
      await request(server).post('/').send({ a: [1, 2], b: 'ü' }).expect(200, { type: 'application/json', body: { a: [1, 2], b: 'ü' } });
      await request(server)
        .post('/')
        .type('form')
        .send('x=1&y=two+words&z=%E2%9C%93')
        .expect(200, { type: 'application/x-www-form-urlencoded', body: { x: '1', y: 'two words', z: '✓' } });
      // A chunked JSON body (no Content-Length) is a body too.
      const chunked = await send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ c: true }), chunked: true });
      expect(JSON.parse(chunked.text)).toEqual({ type: 'application/json', body: { c: true } });
    });

    test('jsonLimit: a JSON body over the limit is 413', async () => {
      const app = new Koa();
      app.use(koaBody({ jsonLimit: '1kb' }));
      app.use((ctx) => {
        ctx.body = 'parsed';
      });
      const { url } = await start(app);
      const reply = await send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(8 * KiB) }) });
      expect(reply.status).toBe(413);
    });

    test('multipart: fields and files, written to disk with the bytes sent', async () => {
      const uploadDir = tempDir('rocket-koa-body-');
      const app = new Koa();
      app.use(koaBody({ multipart: true, formidable: { uploadDir, keepExtensions: true, maxFileSize: 10 * MiB } }));
      app.use((ctx) => {
        const files = ctx.request.files ?? {};
        const list = Object.entries(files).flatMap(([field, f]) => (Array.isArray(f) ? f : [f]).map((file) => ({ field, file })));
        ctx.body = {
          fields: ctx.request.body,
          files: list.map(({ field, file }) => ({ field, name: file.originalFilename, type: file.mimetype, size: file.size, path: file.filepath })),
        };
      });
      const { url } = await start(app);
      const big = noise(3 * MiB, 31);
      const small = Buffer.from('small text\n');
      const form = new FormData();
      form.append('title', 'report');
      form.append('big', new Blob([big], { type: 'application/octet-stream' }), 'big.bin');
      form.append('small', new Blob([small], { type: 'text/plain' }), 'small.txt');
      const response = await fetch(url, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const json = (await response.json()) as { fields: unknown; files: { field: string; name: string; type: string; size: number; path: string }[] };
      expect(json.fields).toEqual({ title: 'report' });
      expect(json.files.map(({ field, name, type, size }) => ({ field, name, type, size }))).toEqual([
        { field: 'big', name: 'big.bin', type: 'application/octet-stream', size: big.length },
        { field: 'small', name: 'small.txt', type: 'text/plain', size: small.length },
      ]);
      const [bigFile, smallFile] = json.files;
      expect(path.dirname(bigFile!.path)).toBe(uploadDir);
      expect(bigFile!.path.endsWith('.bin')).toBe(true);
      expect(sha256(readFileSync(bigFile!.path))).toBe(sha256(big));
      expect(readFileSync(smallFile!.path).equals(small)).toBe(true);
      expect(readdirSync(uploadDir)).toHaveLength(2);
    });
  });

  describe('koa-static', () => {
    const staticApp = () => {
      const app = new Koa();
      // What koa-conditional-get does: a fresh GET or HEAD becomes 304.
      app.use(async (ctx, next) => {
        await next();
        if (ctx.fresh) {
          ctx.status = 304;
          ctx.body = null;
        }
      });
      app.use(serve(files.dir));
      return app;
    };

    test('serves files with their type and length; index.html for /', async () => {
      const { url } = await start(staticApp());
      const hello = await send(`${url}/hello.txt`);
      expect(hello.status).toBe(200);
      expect(hello.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(hello.headers['content-length']).toBe(String(files.hello.length));
      expect(hello.headers['last-modified']).toBeDefined();
      expect(hello.text).toBe(files.hello);
      const css = await send(`${url}/style.css`);
      expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
      expect(css.text).toBe(files.css);
      const index = await send(`${url}/`);
      expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(index.text).toBe(files.html);
      const missing = await send(`${url}/missing.txt`);
      expect(missing.status).toBe(404);
    });

    test('a 2 MiB file streams through intact', async () => {
      const { url } = await start(staticApp());
      const reply = await send(`${url}/big.bin`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-length']).toBe(String(files.big.length));
      expect(sha256(reply.body)).toBe(sha256(files.big));
    });

    test('If-Modified-Since with the Last-Modified date is 304, no body', async () => {
      const { url } = await start(staticApp());
      const first = await send(`${url}/hello.txt`);
      const cached = await send(`${url}/hello.txt`, { headers: { 'if-modified-since': first.headers['last-modified']! } });
      expect(cached.status).toBe(304);
      expect(cached.body.length).toBe(0);
      const stale = await send(`${url}/hello.txt`, { headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
      expect(stale.status).toBe(200);
      expect(stale.text).toBe(files.hello);
    });

    test('the file stream is closed after a download, and when the client leaves mid-file', async () => {
      const closed: string[] = [];
      const app = new Koa();
      // The reset is reported to the app as an error, as on node:http; keep it off stderr.
      app.silent = true;
      app.use(async (ctx, next) => {
        await next();
        if (ctx.body instanceof Readable) ctx.body.on('close', () => closed.push(ctx.path));
      });
      app.use(serve(files.dir));
      const { url, port } = await start(app);
      expect((await send(`${url}/hello.txt`)).text).toBe(files.hello);
      await expect.poll(() => closed).toEqual(['/hello.txt']);
      const client = await RawClient.connect(port);
      await client.write('GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      await client.waitBytes(64 * KiB);
      client.destroy();
      // on-finished hears of the disconnect and Koa destroys the body stream (no fd leak).
      await expect.poll(() => closed).toEqual(['/hello.txt', '/huge.bin']);
    });

    test('HEAD: the GET headers and no body, and the next request on the connection is fine', async () => {
      const { port } = await start(staticApp());
      const client = await RawClient.connect(port);
      try {
        await client.write('HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
        const head = await client.readResponse({ head: true });
        expect(head.status).toBe(200);
        expect(head.header('content-length')).toBe(String(files.big.length));
        expect(head.header('content-type')).toBe('application/octet-stream');
        await client.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
        const next = await client.readResponse();
        expect(next.status).toBe(200);
        expect(next.body.toString()).toBe(files.hello);
      } finally {
        client.destroy();
      }
    });
  });

  describe('koa-compress', () => {
    const big = text(3 * MiB / 2);
    const streamedText = text(2 * MiB + 123);

    const compressedApp = () => {
      const app = new Koa();
      app.use(compress({ threshold: 1024 }));
      app.use((ctx) => {
        if (ctx.path === '/big') {
          ctx.type = 'text/plain';
          ctx.body = big;
        } else if (ctx.path === '/stream') {
          ctx.type = 'text/plain';
          ctx.body = Readable.from(
            (function* () {
              for (let i = 0; i < streamedText.length; i += 32 * KiB) yield Buffer.from(streamedText.slice(i, i + 32 * KiB));
            })(),
          );
        } else if (ctx.path === '/json') {
          ctx.body = { items: Array.from({ length: 500 }, (_, i) => ({ i, label: `item ${i}` })) };
        } else {
          ctx.type = 'text/plain';
          ctx.body = 'small';
        }
      });
      return app;
    };

    test('gzip: a 1.5 MiB string body arrives compressed and intact', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(reply.headers['vary']).toBe('Accept-Encoding');
      expect(reply.headers['content-length']).toBeUndefined();
      expect(reply.body.length).toBeLessThan(big.length / 2);
      expect(reply.decoded().toString()).toBe(big);
    });

    test('br when preferred; a JSON body is compressed too', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'gzip, br' } });
      expect(reply.headers['content-encoding']).toBe('br');
      expect(reply.decoded().toString()).toBe(big);
      const json = await send(`${url}/json`, { headers: { 'accept-encoding': 'gzip' } });
      expect(json.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(json.decoded().toString()).items).toHaveLength(500);
    });

    test('a 2 MiB stream body is compressed as it streams and arrives intact', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/stream`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(reply.headers['transfer-encoding']).toBe('chunked');
      expect(reply.decoded().toString()).toBe(streamedText);
    });

    test('below the threshold nothing is compressed; without Accept-Encoding neither', async () => {
      const { url } = await start(compressedApp());
      const small = await send(`${url}/small`, { headers: { 'accept-encoding': 'gzip' } });
      expect(small.headers['content-encoding']).toBeUndefined();
      expect(small.headers['content-length']).toBe('5');
      expect(small.text).toBe('small');
      const plain = await send(`${url}/big`);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['content-length']).toBe(String(big.length));
      expect(plain.text).toBe(big);
    });
  });
});
