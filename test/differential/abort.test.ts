/**
 * §7.7 row 9: the client goes away during a pending handler (long-poll, `await` before the
 * response), SSE, an upload and a streaming download. req 'aborted' + 'close', res 'close'
 * without 'finish', on-finished and stream.finished callbacks, stream bodies destroyed, Fastify's
 * onRequestAbort — all as on node:http.
 */

import { finished, PassThrough } from 'node:stream';
import getRawBody from 'raw-body';
import multer from 'multer';
import onFinished from 'on-finished';
import { describe, expect, test } from 'vitest';
import { type Ctx, differential, type Hooks, POLL, req } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, FASTIFY, KOA, nodeApp, rawApp } from './frameworks.js';

/** What userland hangs on a response: on-finished, stream.finished. */
function watch(req: Any, res: Any, hooks: Hooks): void {
  onFinished(res, (error: Any) => {
    hooks.note(res, 'on-finished', error?.code ?? null);
    hooks.signal('on-finished');
  });
  finished(res, (error: Any) => {
    hooks.note(res, 'stream.finished(res)', error?.code ?? null);
    hooks.signal('finished');
  });
  hooks.note(req, 'entered', { aborted: req.aborted });
}

/** A handler that waits; after the abort it tries to answer anyway. */
async function longPoll(req: Any, res: Any, hooks: Hooks): Promise<void> {
  watch(req, res, hooks);
  hooks.signal('entered');
  await hooks.gate('late');
  hooks.note(res, 'late', { writableEnded: res.writableEnded, destroyed: res.destroyed, aborted: req.aborted });
  const returned = res.write('late', (error: Any) => {
    hooks.note(res, 'late write callback', error?.code ?? null);
    hooks.signal('late-done');
  });
  hooks.note(res, 'late write returned', returned);
}

async function abortWhilePending(c: Ctx, extra: string[] = []) {
  const client = await c.connect();
  await client.send(req('GET', '/'));
  await c.hooks.wait('entered');
  client.destroy();
  await c.hooks.wait('on-finished');
  await c.hooks.wait('finished');
  for (const name of extra) await c.hooks.wait(name);
  await c.settle();
  c.hooks.signal('late');
  await c.hooks.wait('late-done');
  return { healthy: await c.exchange(req('GET', '/ok')) };
}

describe('a plain request listener', () => {
  test('client gone while nothing listens for errors anywhere: no crash, same events', async () => {
    await differential(
      nodeApp((hooks) => (req, res) => {
        if (req.url === '/ok') {
          res.end('ok');
          return;
        }
        hooks.signal('entered');
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/'));
        await c.hooks.wait('entered');
        client.destroy();
        await c.settle();
        return { healthy: await c.exchange(req('GET', '/ok')) };
      },
    );
  });
});

describe.each(ALL)('%s: client gone while the handler is pending (long-poll, await)', (name) => {
  test("req 'aborted'/'close', res 'close' without 'finish', callbacks, a late write", async () => {
    await differential(
      appFor(name, {
        express: (app, hooks) => {
          app.get('/ok', (_q: Any, res: Any) => res.send('ok'));
          app.get('/', async (req: Any, res: Any) => longPoll(req, res, hooks));
        },
        koa: (app, hooks) => {
          app.on('error', (error: Any) => hooks.note(undefined, 'app error', error.code ?? error.message));
          app.use(async (ctx: Any) => {
            if (ctx.path === '/ok') {
              ctx.body = 'ok';
              return;
            }
            await longPoll(ctx.req, ctx.res, hooks);
            ctx.body = 'late body';
          });
        },
        fastify: (fastify, hooks) => {
          fastify.addHook('onRequestAbort', async (request: Any) => {
            hooks.note(request, 'onRequestAbort', { aborted: request.raw.aborted });
            hooks.signal('onRequestAbort');
          });
          fastify.get('/ok', async () => 'ok');
          fastify.get('/', async (request: Any, reply: Any) => {
            await longPoll(request.raw, reply.raw, hooks);
            return 'late body';
          });
        },
      }),
      (c) => abortWhilePending(c, name.startsWith('fastify') ? ['onRequestAbort'] : []),
    );
  });
});

describe.each(ALL)('%s: client gone during server-sent events', (name) => {
  test("res 'close' reaches the app; writes after it return false", async () => {
    await differential(
      rawApp(name, (req, res, hooks) => {
        watch(req, res, hooks);
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.flushHeaders();
        res.write('data: one\n\n');
        res.on('close', () => {
          hooks.note(res, 'write after close returned', res.write('data: two\n\n'));
          hooks.signal('closed');
        });
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/events'));
        await expect.poll(() => client.raw.pending.includes('data: one'), POLL).toBe(true);
        client.destroy();
        await c.hooks.wait('closed');
        await c.hooks.wait('on-finished');
        await c.hooks.wait('finished');
        return {};
      },
    );
  });
});

describe.each(ALL)('%s: client gone during a streaming download', (name) => {
  test('the stream body is destroyed', async () => {
    const source = (res: Any, hooks: Hooks) => {
      const body = new PassThrough();
      body.on('close', () => {
        hooks.note(res, 'source closed', { destroyed: body.destroyed });
        hooks.signal('source closed');
      });
      body.write('chunk one');
      return body;
    };
    await differential(
      appFor(name, {
        express: (app, hooks) =>
          app.get('/', (req: Any, res: Any) => {
            watch(req, res, hooks);
            const body = source(res, hooks);
            // As `send` does: destroy the source when the response is done, however it ends.
            onFinished(res, () => body.destroy());
            body.pipe(res);
          }),
        koa: (app, hooks) =>
          app.use((ctx: Any) => {
            watch(ctx.req, ctx.res, hooks);
            ctx.type = 'text/plain';
            ctx.body = source(ctx.res, hooks);
          }),
        fastify: (fastify, hooks) =>
          fastify.get('/', (request: Any, reply: Any) => {
            watch(request.raw, reply.raw, hooks);
            return reply.type('text/plain').send(source(reply.raw, hooks));
          }),
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/'));
        await expect.poll(() => client.raw.pending.includes('chunk one'), POLL).toBe(true);
        client.destroy();
        await c.hooks.wait('source closed');
        await c.hooks.wait('on-finished');
        await c.hooks.wait('finished');
        return {};
      },
    );
  });
});

/** Headers and part of a 1 MiB body, then the client goes. */
async function abortUpload(c: Ctx, waitFor: string[]) {
  const client = await c.connect();
  await client.send(req('POST', '/upload', { 'Content-Type': 'application/octet-stream', 'Content-Length': 1024 * 1024 }, 'x'.repeat(64 * 1024)));
  await expect.poll(() => c.hooks.recorder.requests.length, POLL).toBe(1);
  await c.hooks.wait('reading');
  client.destroy();
  for (const name of waitFor) await c.hooks.wait(name);
  await c.settle();
  return { healthy: await c.exchange(req('GET', '/ok')) };
}

describe.each(EXPRESS)('%s: client gone during an upload', (name) => {
  test('express.raw() fails with "request aborted"; the error handler runs', async () => {
    await differential(
      expressApp(name, (app, hooks) => {
        app.get('/ok', (_q: Any, res: Any) => res.send('ok'));
        app.post(
          '/upload',
          (req: Any, res: Any, next: Any) => {
            watch(req, res, hooks);
            req.once('data', () => hooks.signal('reading'));
            next();
          },
          (req: Any, res: Any, next: Any) => getRawBody(req, { length: req.headers['content-length'] }, (error: Any) => next(error)),
          (_req: Any, res: Any) => res.send('uploaded'),
        );
        app.use((error: Any, _req: Any, res: Any, _next: Any) => {
          hooks.note(res, 'upload error', { type: error.type, code: error.code, message: error.message });
          hooks.signal('upload error');
          res.status(400).end();
        });
      }),
      (c) => abortUpload(c, ['upload error', 'on-finished', 'finished']),
    );
  });
});

describe.each(KOA)('%s: client gone during an upload', (name) => {
  test('raw-body rejects with "request aborted"', async () => {
    await differential(
      appFor(name, {
        koa: (app, hooks) =>
          app.use(async (ctx: Any) => {
            if (ctx.path === '/ok') {
              ctx.body = 'ok';
              return;
            }
            watch(ctx.req, ctx.res, hooks);
            ctx.req.once('data', () => hooks.signal('reading'));
            try {
              await getRawBody(ctx.req, { length: ctx.get('content-length') });
              ctx.body = 'uploaded';
            } catch (error: Any) {
              hooks.note(ctx, 'upload error', { type: error.type, code: error.code, message: error.message });
              hooks.signal('upload error');
              ctx.status = 400;
            }
          }),
      }),
      (c) => abortUpload(c, ['upload error', 'on-finished', 'finished']),
    );
  });
});

describe.each(FASTIFY)('%s: client gone during an upload', (name) => {
  test.each([
    ['the body parser sees the abort', true],
    ['answered 415 before the body was read, then the client goes', false],
  ])('%s', async (_title, parse) => {
    await differential(
      appFor(name, {
        fastify: (fastify, hooks) => {
          if (parse) fastify.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_q: Any, body: Any, done: Any) => done(null, body));
          fastify.addHook('onRequest', async (request: Any, reply: Any) => {
            if (request.url !== '/upload') return;
            watch(request.raw, reply.raw, hooks);
            request.raw.once('data', () => hooks.signal('reading'));
          });
          fastify.addHook('onRequestAbort', async (request: Any) => {
            hooks.note(request, 'onRequestAbort', { aborted: request.raw.aborted });
            hooks.signal('onRequestAbort');
          });
          fastify.get('/ok', async () => 'ok');
          fastify.post('/upload', async (request: Any) => `uploaded ${request.body.length}`);
        },
      }),
      (c) => abortUpload(c, ['on-finished', 'finished']),
    );
  });
});

describe.each(KOA)('%s: the AbortSignal-style checks apps make', (name) => {
  test('ctx.req.aborted / ctx.res.writableEnded seen from a middleware after the abort', async () => {
    await differential(
      appFor(name, {
        koa: (app, hooks) => {
          app.on('error', (error: Any) => hooks.note(undefined, 'app error', error.code ?? error.message));
          app.use(async (ctx: Any) => {
            if (ctx.path === '/ok') {
              ctx.body = 'ok';
              return;
            }
            watch(ctx.req, ctx.res, hooks);
            hooks.signal('entered');
            await hooks.gate('late');
            hooks.note(ctx, 'after abort', { aborted: ctx.req.aborted, writable: ctx.writable, headerSent: ctx.headerSent });
            hooks.signal('late-done');
            ctx.body = 'late';
          });
        },
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/'));
        await c.hooks.wait('entered');
        client.destroy();
        await c.hooks.wait('on-finished');
        await c.settle();
        c.hooks.signal('late');
        await c.hooks.wait('late-done');
        return { healthy: await c.exchange(req('GET', '/ok')) };
      },
    );
  });
});

describe.each(EXPRESS)('%s: client gone mid multipart upload (rows 9, 16)', (name) => {
  test('multer stops, the error handler hears of it, nothing is left half-read', async () => {
    const boundary = '----differentialAbort';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    await differential(
      expressApp(name, (app, hooks) => {
        app.get('/ok', (_q: Any, res: Any) => res.send('ok'));
        app.post(
          '/upload',
          (req: Any, res: Any, next: Any) => {
            watch(req, res, hooks);
            req.once('data', () => hooks.signal('reading'));
            next();
          },
          multer({ storage: multer.memoryStorage() }).any(),
          (_q: Any, res: Any) => res.send('uploaded'),
        );
        app.use((error: Any, _req: Any, res: Any, _next: Any) => {
          hooks.note(res, 'upload error', { code: error.code ?? null, message: error.message });
          hooks.signal('upload error');
          res.status(400).end();
        });
      }),
      async (c) => {
        const client = await c.connect();
        const partial = head + 'x'.repeat(64 * 1024);
        await client.send(req('POST', '/upload', { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': 1024 * 1024 }, partial));
        await c.hooks.wait('reading');
        client.destroy();
        await c.hooks.wait('upload error');
        await c.hooks.wait('on-finished');
        await c.settle();
        return { healthy: await c.exchange(req('GET', '/ok')) };
      },
    );
  });
});
