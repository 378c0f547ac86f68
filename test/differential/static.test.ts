/**
 * §7.7 row 8: files — express.static, res.sendFile, res.download, koa-static (koa-send),
 * @fastify/static. Ranges (206/416/If-Range), a large file, callbacks without ECONNABORTED on
 * success, and a client that goes mid-file: callback ECONNABORTED, the file descriptor closed.
 */

import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koaStatic from 'koa-static';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Ctx, differential, POLL, req } from './harness.js';
import { type Any, appFor, EXPRESS, expressApp, expressModule, KOA } from './frameworks.js';

let dir: string;
const BIG_SIZE = 32 * 1024 * 1024;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'differential-static-'));
  writeFileSync(join(dir, 'hello.txt'), 'hello from a static file\n');
  const big = Buffer.alloc(BIG_SIZE);
  for (let i = 0; i < big.length; i += 4096) big.write(`block ${i} `, i);
  writeFileSync(join(dir, 'big.bin'), big);
  const when = new Date('2024-01-02T03:04:05Z');
  for (const f of ['hello.txt', 'big.bin']) utimesSync(join(dir, f), when, when);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = () => readdirSync('/proc/self/fd').length;

/** Ranges and validators on one path. */
async function ranges(c: Ctx, path: string) {
  const full = await c.exchange(req('GET', path));
  const etag = full.response.headers.find((h) => h.startsWith('etag: '))?.slice(6);
  return {
    full,
    head: await c.exchange(req('HEAD', path), { head: true }),
    first10: await c.exchange(req('GET', path, { Range: 'bytes=0-9' })),
    suffix: await c.exchange(req('GET', path, { Range: 'bytes=-6' })),
    unsatisfiable: await c.exchange(req('GET', path, { Range: 'bytes=999999-' })),
    ifRangeMatch: etag === undefined ? null : await c.exchange(req('GET', path, { Range: 'bytes=0-4', 'If-Range': etag })),
    ifRangeStale: await c.exchange(req('GET', path, { Range: 'bytes=0-4', 'If-Range': '"stale"' })),
    notModified: etag === undefined ? null : await c.exchange(req('GET', path, { 'If-None-Match': etag })),
  };
}

/** The whole large file, read to the end. */
async function bigFile(c: Ctx, path: string) {
  const client = await c.connect();
  await client.send(req('GET', path, { Connection: 'close' }));
  return { response: await client.readToClose({ timeout: 10_000 }) };
}

/**
 * The client stops reading a large file, then goes: the app's callback and the file descriptor
 * count tell whether the file stream was cleaned up.
 */
async function abortMidFile(c: Ctx, path: string, callback: string | null) {
  const baseline = openFds();
  const client = await c.connect();
  client.raw.socket.pause();
  await client.send(req('GET', path));
  await expect.poll(() => c.hooks.recorder.requests[0]?.res.headersSent ?? false, { ...POLL, timeout: 5000 }).toBe(true);
  client.destroy();
  if (callback !== null) await c.hooks.wait(callback);
  await c.settle();
  await expect.poll(openFds, { ...POLL, timeout: 3000 }).toBeLessThanOrEqual(baseline);
  return { fdsBackToBaseline: true };
}

describe.each(EXPRESS)('%s: files (row 8)', (name) => {
  const app = () =>
    expressApp(name, (app, hooks) => {
      app.use('/static', expressModule(name).static(dir));
      app.get('/send/:file', (req: Any, res: Any) =>
        res.sendFile(join(dir, req.params.file), (error: Any) => {
          hooks.note(res, 'sendFile callback', error?.code ?? error?.status ?? null);
          hooks.signal('callback');
          // With a callback, errors (a 416 too) are the app's to answer.
          if (error && !res.headersSent) res.status(error.status ?? 500).end();
        }),
      );
      app.get('/download', (_req: Any, res: Any) =>
        res.download(join(dir, 'hello.txt'), 'naïve name.txt', (error: Any) => {
          hooks.note(res, 'download callback', error?.code ?? null);
          hooks.signal('callback');
        }),
      );
    });

  test('express.static: ranges, If-Range, conditional GET', async () => {
    await differential(app(), (c) => ranges(c, '/static/hello.txt'));
  });

  test('res.sendFile: ranges; the callback fires without an error', async () => {
    await differential(app(), (c) => ranges(c, '/send/hello.txt'));
  });

  test('res.download: Content-Disposition with a non-ASCII name; the callback fires without an error', async () => {
    await differential(app(), async (c) => {
      const result = await c.exchange(req('GET', '/download'));
      await c.hooks.wait('callback');
      return result;
    });
  });

  test('a 32 MiB file through res.sendFile arrives whole; no ECONNABORTED', async () => {
    await differential(app(), async (c) => {
      const result = await bigFile(c, '/send/big.bin');
      await c.hooks.wait('callback');
      return result;
    });
  });

  test('the client goes mid-file: the callback gets ECONNABORTED, the descriptor is closed', async () => {
    await differential(app(), (c) => abortMidFile(c, '/send/big.bin', 'callback'));
  });
});

describe.each(KOA)('%s: files with koa-static (row 8)', (name) => {
  const app = () =>
    appFor(name, {
      koa: (app) => app.use(koaStatic(dir)),
    });

  test('GET, HEAD, conditional and Range requests as koa-send answers them', async () => {
    await differential(app(), (c) => ranges(c, '/hello.txt'));
  });

  test('a 32 MiB file arrives whole', async () => {
    await differential(app(), (c) => bigFile(c, '/big.bin'));
  });

  test('the client goes mid-file: the stream body is destroyed, the descriptor closed', async () => {
    await differential(app(), (c) => abortMidFile(c, '/big.bin', null));
  });
});

describe('fastify5: files with @fastify/static (row 8)', () => {
  const app = () =>
    appFor('fastify5', {
      fastify: async (fastify) => {
        const fastifyStatic = (await import('@fastify/static')).default;
        await fastify.register(fastifyStatic, { root: dir, prefix: '/static/' });
      },
    });

  test('ranges, If-Range, conditional GET', async () => {
    await differential(app(), (c) => ranges(c, '/static/hello.txt'));
  });

  test('a 32 MiB file arrives whole', async () => {
    await differential(app(), (c) => bigFile(c, '/static/big.bin'));
  });

  test('the client goes mid-file: the descriptor is closed', async () => {
    await differential(app(), (c) => abortMidFile(c, '/static/big.bin', null));
  });
});
