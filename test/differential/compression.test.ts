/**
 * §7.7 row 19: compression (Express `compression`), koa-compress, @fastify/compress — gzip and br,
 * Content-Length dropped for chunked framing, Vary, the threshold, HEAD, already-encoded bodies.
 * The compressed bytes themselves are compared: the core must not touch them. (Big compressed
 * bodies that need 'drain' are in streaming.test.ts.)
 */

import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import compression from 'compression';
import koaCompress from 'koa-compress';
import { describe, test } from 'vitest';
import { type Ctx, differential, req } from './harness.js';
import { type Any, appFor, EXPRESS, expressApp, KOA } from './frameworks.js';

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(2000);
const SMALL = 'tiny';
const PRE = gzipSync('already gzipped by the app');

async function encodings(c: Ctx) {
  return {
    gzip: await c.exchange(req('GET', '/text', { 'Accept-Encoding': 'gzip' })),
    br: await c.exchange(req('GET', '/text', { 'Accept-Encoding': 'br' })),
    identity: await c.exchange(req('GET', '/text', { 'Accept-Encoding': 'identity' })),
    none: await c.exchange(req('GET', '/text')),
    small: await c.exchange(req('GET', '/small', { 'Accept-Encoding': 'gzip, br' })),
    head: await c.exchange(req('HEAD', '/text', { 'Accept-Encoding': 'gzip' }), { head: true }),
    encoded: await c.exchange(req('GET', '/encoded', { 'Accept-Encoding': 'gzip' })),
    streamed: await c.exchange(req('GET', '/streamed', { 'Accept-Encoding': 'gzip' })),
  };
}

describe.each(EXPRESS)('%s: compression (row 19)', (name) => {
  test('gzip, br, identity, threshold, HEAD, an already encoded body, a streamed body', async () => {
    await differential(
      expressApp(name, (app) => {
        app.use(compression({ threshold: 1024 }));
        app.get('/text', (_q: Any, res: Any) => res.type('text').send(TEXT));
        app.get('/small', (_q: Any, res: Any) => res.type('text').send(SMALL));
        app.get('/encoded', (_q: Any, res: Any) => res.set({ 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' }).send(PRE));
        app.get('/streamed', (_q: Any, res: Any) => {
          res.type('text');
          res.write(TEXT.slice(0, 40_000));
          res.end(TEXT.slice(40_000));
        });
      }),
      encodings,
    );
  });
});

describe.each(KOA)('%s: koa-compress (row 19)', (name) => {
  test('gzip, br, identity, threshold, HEAD, an already encoded body, a streamed body', async () => {
    await differential(
      appFor(name, {
        koa: (app) => {
          app.use(koaCompress({ threshold: 1024 }));
          app.use((ctx: Any) => {
            if (ctx.path === '/text') {
              ctx.type = 'text';
              ctx.body = TEXT;
            } else if (ctx.path === '/small') {
              ctx.type = 'text';
              ctx.body = SMALL;
            } else if (ctx.path === '/encoded') {
              ctx.set('Content-Encoding', 'gzip');
              ctx.type = 'text';
              ctx.body = PRE;
            } else if (ctx.path === '/streamed') {
              ctx.type = 'text';
              ctx.body = Readable.from([TEXT.slice(0, 40_000), TEXT.slice(40_000)]);
            }
          });
        },
      }),
      encodings,
    );
  });
});

describe('fastify5: @fastify/compress (row 19)', () => {
  test('gzip, br, identity, threshold, HEAD, an already encoded body, a streamed body', async () => {
    const fastifyCompress = (await import('@fastify/compress')).default;
    await differential(
      appFor('fastify5', {
        fastify: async (fastify) => {
          await fastify.register(fastifyCompress, { threshold: 1024 });
          fastify.get('/text', (_q: Any, reply: Any) => reply.type('text/plain').send(TEXT));
          fastify.get('/small', (_q: Any, reply: Any) => reply.type('text/plain').send(SMALL));
          fastify.get('/encoded', (_q: Any, reply: Any) => reply.header('content-encoding', 'gzip').type('text/plain').send(PRE));
          fastify.get('/streamed', (_q: Any, reply: Any) => reply.type('text/plain').send(Readable.from([TEXT.slice(0, 40_000), TEXT.slice(40_000)])));
        },
      }),
      encodings,
    );
  });
});
