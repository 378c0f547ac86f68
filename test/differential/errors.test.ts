/**
 * §7.7 rows 11 (errors after the head was sent: the client must see a cut, never a clean end; the
 * server stays healthy) and 12 (errors before the head: the framework's error response, no
 * header leakage).
 */

import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { type Ctx, differential, parsePartial, POLL, req } from './harness.js';
import { type Any, appFor, EXPRESS, expressApp, FASTIFY, KOA } from './frameworks.js';

/**
 * Request `path`; once 'partial' arrived, let the app fail; read what the client gets (complete or
 * cut). Then a new connection checks the server still answers.
 */
async function failMidBody(c: Ctx, path: string, waitFor = 'failed') {
  const client = await c.connect();
  await client.send(req('GET', path));
  await expect.poll(() => client.raw.pending.includes('partial'), POLL).toBe(true);
  c.hooks.signal('fail');
  await c.hooks.wait(waitFor);
  const outcome = await client.readOutcome();
  const healthy = await c.exchange(req('GET', '/ok'));
  return { outcome, healthy };
}

describe.each(EXPRESS)('%s: errors after the head was sent (row 11)', (name) => {
  const app = () =>
    expressApp(name, (app, hooks) => {
      app.get('/ok', (_q: Any, res: Any) => res.send('ok'));
      app.get('/sync', async (_q: Any, res: Any, next: Any) => {
        res.write('partial');
        await hooks.gate('fail');
        try {
          throw new Error('boom');
        } catch (error) {
          next(error);
        } finally {
          hooks.signal('failed');
        }
      });
      app.get('/throw', (_q: Any, res: Any) => {
        res.write('partial');
        hooks.signal('failed');
        throw new Error('thrown synchronously after the head');
      });
      app.get('/stream', (_q: Any, res: Any, next: Any) => {
        const source = new PassThrough();
        source.on('error', (error) => {
          hooks.note(res, 'source error', error.message);
          next(error);
          hooks.signal('failed');
        });
        source.pipe(res);
        source.write('partial');
        void hooks.gate('fail').then(() => source.destroy(new Error('source failed')));
      });
      app.get('/destroy', async (_q: Any, res: Any) => {
        res.write('partial');
        await hooks.gate('fail');
        res.destroy(new Error('given up'));
        hooks.signal('failed');
      });
    });

  test('next(err) after res.write(): finalhandler destroys the socket, the client sees a cut', async () => {
    const d = await differential(app(), (c) => failMidBody(c, '/sync'));
    expect(d.node.result.outcome?.complete).toBe(false);
  });

  test('a synchronous throw after res.write()', async () => {
    await differential(app(), async (c) => {
      const client = await c.connect();
      await client.send(req('GET', '/throw'));
      await c.hooks.wait('failed');
      return { outcome: await client.readOutcome(), healthy: await c.exchange(req('GET', '/ok')) };
    });
  });

  test("the piped source emits 'error' mid-body", async () => {
    const d = await differential(app(), (c) => failMidBody(c, '/stream'));
    expect(d.node.result.outcome?.complete).toBe(false);
  });

  test('res.destroy(err) mid-body', async () => {
    await differential(app(), (c) => failMidBody(c, '/destroy'));
  });
});

describe.each(KOA)('%s: a stream body fails mid-body (row 11)', (name) => {
  test('Koa 3 pipeline destroys res (a cut); Koa 2 leaves the response hanging — either way as on node:http', async () => {
    await differential(
      appFor(name, {
        koa: (app, hooks) => {
          app.on('error', (error: Error) => hooks.signal('app-error', error.message));
          app.use((ctx: Any) => {
            if (ctx.path === '/ok') {
              ctx.body = 'ok';
              return;
            }
            const body = new PassThrough();
            ctx.type = 'text/plain';
            ctx.body = body;
            body.write('partial');
            void hooks.gate('fail').then(() => body.destroy(new Error('source failed')));
          });
        },
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/'));
        await expect.poll(() => client.raw.pending.includes('partial'), POLL).toBe(true);
        c.hooks.signal('fail');
        const appError = await c.hooks.wait('app-error');
        // Another exchange on another connection: the server is healthy, and time enough passed for
        // the first connection to be cut if it is going to be.
        const healthy = await c.exchange(req('GET', '/ok'));
        const ended = client.raw.ended;
        const outcome = ended ? await client.readOutcome() : parsePartial(client.raw.pending, false);
        client.destroy();
        return { appError, healthy, ended, outcome };
      },
    );
  });
});

describe.each(FASTIFY)('%s: errors after the head was sent (row 11)', (name) => {
  test('reply.send(stream) whose source fails mid-body: a cut', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify, hooks) => {
          fastify.get('/ok', async () => 'ok');
          fastify.get('/', (_q: Any, reply: Any) => {
            const body = new PassThrough();
            body.write('partial');
            void hooks.gate('fail').then(() => {
              body.destroy(new Error('source failed'));
              hooks.signal('failed');
            });
            return reply.type('text/plain').send(body);
          });
        },
      }),
      (c) => failMidBody(c, '/'),
    );
  });
});

// ---- row 12 ---------------------------------------------------------------------------------

function httpError(message: string, status: number): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, headers: { 'X-Error-Header': 'from the error' } });
}

describe.each(EXPRESS)('%s: errors before the head (row 12)', (name) => {
  test('finalhandler: 500 page, err.status and err.headers, headers set before the error', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/plain', (_q: Any, res: Any) => {
          res.setHeader('X-Before', 'set before the throw');
          throw new Error('plain');
        });
        app.get('/status', (_q: Any, res: Any) => {
          res.setHeader('X-Before', 'set before the throw');
          throw httpError('teapot', 418);
        });
        app.get('/async', (_q: Any, _res: Any, next: Any) => {
          void tick().then(() => next(httpError('later', 503)));
        });
        app.get('/handled', () => {
          throw httpError('handled', 422);
        });
        app.use('/handled', (error: Any, _q: Any, res: Any, _next: Any) => res.status(error.status).json({ error: error.message }));
      }),
      async (c) => Promise.all(['/plain', '/status', '/async', '/handled', '/missing'].map((p) => c.exchange(req('GET', p)))),
    );
  });
});

describe.each(KOA)('%s: errors before the head (row 12)', (name) => {
  test('ctx.onerror clears every header, then text/plain with err.headers', async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use(async (ctx: Any) => {
            ctx.set('X-Before', 'set before the throw');
            ctx.set('Set-Cookie', ['a=1']);
            if (ctx.path === '/plain') throw new Error('plain');
            if (ctx.path === '/status') ctx.throw(418, 'teapot', { headers: { 'X-Error-Header': 'from the error' } });
            await tick();
            throw httpError('later', 503);
          }),
      }),
      async (c) => Promise.all(['/plain', '/status', '/async'].map((p) => c.exchange(req('GET', p)))),
    );
  });
});

describe.each(FASTIFY)('%s: errors before the head (row 12)', (name) => {
  test('the error serializer; statusCode; a custom error handler', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) => {
          fastify.get('/plain', async (_q: Any, reply: Any) => {
            reply.header('X-Before', 'set before the throw');
            throw new Error('plain');
          });
          fastify.get('/status', async () => {
            throw httpError('teapot', 418);
          });
          fastify.register(async (scope: Any) => {
            scope.setErrorHandler((error: Any, _q: Any, reply: Any) => reply.code(422).send({ handled: error.message }));
            scope.get('/handled', async () => {
              throw new Error('handled');
            });
          });
        },
      }),
      async (c) => Promise.all(['/plain', '/status', '/handled', '/missing'].map((p) => c.exchange(req('GET', p)))),
    );
  });
});
