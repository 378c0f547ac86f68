/**
 * Express 5 and Express 4 on Rocket: responses that middleware transforms or streams —
 * compression (gzip and br, large bodies that need 'drain', the threshold, HEAD), express.static
 * and res.sendFile (types, ETag and 304, ranges, a 2 MiB file, 404).
 */

import compression from 'compression';
import express from 'express';
import express4 from 'express4';
import http from 'node:http';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { listen } from '@rocketserver/adapter-express';
import { closeServers, KiB, MiB, noise, RawClient, removeTempDirs, send, served, sha256, staticDir, text, type StaticFiles } from './helpers.js';

afterEach(closeServers);

let files: StaticFiles;
beforeAll(() => {
  files = staticDir();
});
afterAll(removeTempDirs);

type Express = typeof express;
const frameworks: [string, Express][] = [
  ['Express 5', express],
  ['Express 4', express4 as unknown as Express],
];

describe.each(frameworks)('%s', (_name, express) => {
  const start = (app: ReturnType<Express>) => served(listen(app, 0, '127.0.0.1'));

  describe('compression', () => {
    const big = text(3 * MiB / 2);
    const streamed = noise(2 * MiB, 11);

    const compressedApp = () => {
      const app = express();
      app.use(compression());
      app.get('/big', (_req, res) => res.type('text/plain').send(big));
      app.get('/small', (_req, res) => res.type('text/plain').send('tiny'));
      // A streamed body larger than every buffer on the way: zlib has to wait for 'drain'.
      app.get('/stream', (_req, res) => {
        res.type('application/octet-stream');
        Readable.from(
          (function* () {
            for (let i = 0; i < streamed.length; i += 64 * KiB) yield streamed.subarray(i, i + 64 * KiB);
          })(),
        ).pipe(res);
      });
      return app;
    };

    test('gzip: a 1.5 MiB body is compressed, chunked, and decompresses to the original', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(reply.headers['vary']).toBe('Accept-Encoding');
      expect(reply.headers['content-length']).toBeUndefined();
      expect(reply.headers['transfer-encoding']).toBe('chunked');
      expect(reply.body.length).toBeLessThan(big.length / 2);
      expect(reply.decoded().toString()).toBe(big);
    });

    test('br: chosen when the client prefers it, and decompresses to the original', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'br;q=1.0, gzip;q=0.5' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('br');
      expect(reply.decoded().toString()).toBe(big);
    });

    test('no acceptable encoding: the body goes out as it is, with its length', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/big`, { headers: { 'accept-encoding': 'identity' } });
      expect(reply.headers['content-encoding']).toBeUndefined();
      expect(reply.headers['content-length']).toBe(String(big.length));
      expect(reply.text).toBe(big);
    });

    test('a streamed 2 MiB body is compressed as it streams and arrives intact', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/stream`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBe('gzip');
      expect(sha256(reply.decoded())).toBe(sha256(streamed));
    });

    test('a slow reader: the compressed stream waits for the client and still arrives whole', async () => {
      const { port } = await start(compressedApp());
      const client = await RawClient.connect(port);
      try {
        // Let the client's receive buffer fill before reading anything.
        client.socket.pause();
        await client.write('GET /stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n');
        await expect.poll(() => client.socket.readableLength, { timeout: 5000 }).toBeGreaterThanOrEqual(client.socket.readableHighWaterMark);
        client.socket.resume();
        const response = await client.readResponse({ timeout: 10_000 });
        expect(response.header('content-encoding')).toBe('gzip');
        expect(response.framing).toBe('chunked');
        expect(sha256(zlib.gunzipSync(response.body))).toBe(sha256(streamed));
      } finally {
        client.destroy();
      }
    });

    test('res.flush() pushes an event out before the response ends (SSE through compression)', async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const app = express();
      app.use(compression());
      app.get('/events', (_req, res) => {
        res.setHeader('Content-Type', 'text/event-stream');
        res.setHeader('Cache-Control', 'no-cache');
        res.write('data: one\n\n');
        (res as unknown as { flush(): void }).flush();
        // The second event waits until the client has seen the first: without the flush reaching
        // the client, this would never happen.
        void released.then(() => res.end('data: two\n\n'));
      });
      const { port } = await start(app);
      let received = '';
      let encoding: string | undefined;
      const done = new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/events', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
          encoding = res.headers['content-encoding'];
          const gunzip = zlib.createGunzip();
          res.pipe(gunzip);
          gunzip.on('data', (chunk: Buffer) => (received += chunk.toString()));
          gunzip.on('end', resolve);
          gunzip.on('error', reject);
        });
        req.on('error', reject);
      });
      await expect.poll(() => received, { timeout: 5000 }).toBe('data: one\n\n');
      expect(encoding).toBe('gzip');
      release();
      await done;
      expect(received).toBe('data: one\n\ndata: two\n\n');
    });

    test('a body below the threshold is not compressed', async () => {
      const { url } = await start(compressedApp());
      const reply = await send(`${url}/small`, { headers: { 'accept-encoding': 'gzip, br' } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-encoding']).toBeUndefined();
      expect(reply.headers['content-length']).toBe('4');
      expect(reply.headers['vary']).toBe('Accept-Encoding');
      expect(reply.text).toBe('tiny');
    });

    test('HEAD: the headers of an uncompressed GET, and no body', async () => {
      const { port } = await start(compressedApp());
      const client = await RawClient.connect(port);
      try {
        await client.write('HEAD /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n');
        const head = await client.readResponse({ head: true });
        expect(head.status).toBe(200);
        expect(head.header('content-encoding')).toBeUndefined();
        expect(head.header('content-length')).toBe(String(big.length));
        expect(head.header('transfer-encoding')).toBeUndefined();
        expect(head.body.length).toBe(0);
        // Nothing followed the head: the next response on the connection starts clean.
        await client.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
        const next = await client.readResponse();
        expect(next.body.toString()).toBe('tiny');
      } finally {
        client.destroy();
      }
    });
  });

  describe('express.static', () => {
    const staticApp = (options: Record<string, unknown> = {}) => {
      const app = express();
      app.use('/static', express.static(files.dir, options));
      return app;
    };

    test('serves a file with its Content-Type, length, ETag and Last-Modified', async () => {
      const { url } = await start(staticApp());
      const reply = await send(`${url}/static/hello.txt`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/plain; charset=utf-8$/i);
      expect(reply.headers['content-length']).toBe(String(files.hello.length));
      expect(reply.headers['etag']).toMatch(/^W\/".+"$/);
      expect(reply.headers['last-modified']).toBeDefined();
      expect(reply.headers['accept-ranges']).toBe('bytes');
      expect(reply.text).toBe(files.hello);
      const css = await send(`${url}/static/style.css`);
      expect(css.headers['content-type']).toMatch(/^text\/css; charset=utf-8$/i);
      expect(css.text).toBe(files.css);
      const index = await send(`${url}/static/`);
      expect(index.headers['content-type']).toMatch(/^text\/html; charset=utf-8$/i);
      expect(index.text).toBe(files.html);
    });

    test('If-None-Match with the ETag is 304 with no body; If-Modified-Since too', async () => {
      const { url } = await start(staticApp());
      const first = await send(`${url}/static/hello.txt`);
      const etag = first.headers['etag']!;
      const cached = await send(`${url}/static/hello.txt`, { headers: { 'if-none-match': etag } });
      expect(cached.status).toBe(304);
      expect(cached.headers['etag']).toBe(etag);
      expect(cached.body.length).toBe(0);
      const since = await send(`${url}/static/hello.txt`, { headers: { 'if-modified-since': first.headers['last-modified']! } });
      expect(since.status).toBe(304);
      const changed = await send(`${url}/static/hello.txt`, { headers: { 'if-none-match': 'W/"other"' } });
      expect(changed.status).toBe(200);
      expect(changed.text).toBe(files.hello);
    });

    test('Range: 206 with Content-Range; an unsatisfiable range is 416', async () => {
      const { url } = await start(staticApp({ fallthrough: false }));
      const part = await send(`${url}/static/hello.txt`, { headers: { range: 'bytes=6-9' } });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes 6-9/${files.hello.length}`);
      expect(part.headers['content-length']).toBe('4');
      expect(part.text).toBe(files.hello.slice(6, 10));
      const middle = await send(`${url}/static/big.bin`, { headers: { range: `bytes=${MiB}-${MiB + 99_999}` } });
      expect(middle.status).toBe(206);
      expect(middle.body.equals(files.big.subarray(MiB, MiB + 100_000))).toBe(true);
      const bad = await send(`${url}/static/hello.txt`, { headers: { range: 'bytes=5000-6000' } });
      expect(bad.status).toBe(416);
      expect(bad.headers['content-range']).toBe(`bytes */${files.hello.length}`);
    });

    test('a 2 MiB file arrives intact; HEAD gets its length and no body', async () => {
      const { url, port } = await start(staticApp());
      const reply = await send(`${url}/static/big.bin`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/octet-stream');
      expect(reply.headers['content-length']).toBe(String(files.big.length));
      expect(reply.body.length).toBe(files.big.length);
      expect(sha256(reply.body)).toBe(sha256(files.big));
      const client = await RawClient.connect(port);
      try {
        await client.write('HEAD /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
        const head = await client.readResponse({ head: true });
        expect(head.status).toBe(200);
        expect(head.header('content-length')).toBe(String(files.big.length));
        await client.write('GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
        expect((await client.readResponse()).body.toString()).toBe(files.hello);
      } finally {
        client.destroy();
      }
    });

    test('a missing file is 404', async () => {
      const { url } = await start(staticApp());
      const reply = await send(`${url}/static/nope.txt`);
      expect(reply.status).toBe(404);
      expect(reply.headers['content-type']).toMatch(/^text\/html; charset=utf-8$/i);
      expect(reply.text).toContain('Cannot GET /static/nope.txt');
    });
  });

  describe('res.sendFile', () => {
    const sendFileApp = () => {
      const outcomes: (string | undefined)[] = [];
      const app = express();
      app.get('/file/:name', (req, res, next) => {
        res.sendFile(req.params.name!, { root: files.dir }, (err?: Error & { code?: string }) => {
          outcomes.push(err === undefined ? undefined : (err.code ?? err.message));
          if (err) next(err);
        });
      });
      return { app, outcomes };
    };

    test('sends a file with its type, and calls back without an error', async () => {
      const { app, outcomes } = sendFileApp();
      const { url } = await start(app);
      const reply = await send(`${url}/file/style.css`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/css; charset=utf-8$/i);
      expect(reply.headers['content-length']).toBe(String(files.css.length));
      expect(reply.text).toBe(files.css);
      await expect.poll(() => outcomes).toEqual([undefined]);
    });

    test('a 2 MiB file arrives intact and the callback sees success, not ECONNABORTED', async () => {
      const { app, outcomes } = sendFileApp();
      const { url } = await start(app);
      const reply = await send(`${url}/file/big.bin`);
      expect(reply.status).toBe(200);
      expect(sha256(reply.body)).toBe(sha256(files.big));
      await expect.poll(() => outcomes).toEqual([undefined]);
    });

    test('ETag → 304, Range → 206 and 416', async () => {
      const { app } = sendFileApp();
      const { url } = await start(app);
      const first = await send(`${url}/file/hello.txt`);
      const cached = await send(`${url}/file/hello.txt`, { headers: { 'if-none-match': first.headers['etag']! } });
      expect(cached.status).toBe(304);
      expect(cached.body.length).toBe(0);
      const part = await send(`${url}/file/big.bin`, { headers: { range: 'bytes=-1000' } });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes ${files.big.length - 1000}-${files.big.length - 1}/${files.big.length}`);
      expect(part.body.equals(files.big.subarray(files.big.length - 1000))).toBe(true);
      const bad = await send(`${url}/file/hello.txt`, { headers: { range: 'bytes=999-' } });
      expect(bad.status).toBe(416);
      expect(bad.headers['content-range']).toBe(`bytes */${files.hello.length}`);
    });

    test('a client that leaves mid-file: the callback gets ECONNABORTED', async () => {
      const { app, outcomes } = sendFileApp();
      const { port } = await start(app);
      const client = await RawClient.connect(port);
      await client.write('GET /file/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      await client.waitBytes(64 * KiB);
      client.destroy();
      await expect.poll(() => outcomes).toEqual(['ECONNABORTED']);
    });

    test('a missing file: the callback gets ENOENT, the client 404', async () => {
      const { app, outcomes } = sendFileApp();
      const { url } = await start(app);
      const reply = await send(`${url}/file/missing.txt`);
      expect(reply.status).toBe(404);
      expect(outcomes).toEqual(['ENOENT']);
    });
  });
});
