/**
 * §7.7 rows 6 (HEAD), 7 (204/205/304, conditional GET), 18 (redirects) and 32 (1xx interim
 * responses).
 */

import { createReadStream, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type Ctx, differential, req } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, expressModule, FASTIFY, KOA, rawApp } from './frameworks.js';

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'differential-head-'));
  file = join(dir, 'hello.txt');
  writeFileSync(file, 'hello from a file\n');
  const when = new Date('2024-01-02T03:04:05Z');
  utimesSync(file, when, when);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET, then HEAD, of each path: each on its own connection, with the probe. */
async function getAndHead(c: Ctx, paths: string[], headers: Record<string, string> = {}) {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    out[`GET ${path}`] = await c.exchange(req('GET', path, headers));
    out[`HEAD ${path}`] = await c.exchange(req('HEAD', path, headers), { head: true });
  }
  return out;
}

describe.each(EXPRESS)('%s: HEAD (row 6)', (name) => {
  test('res.send, res.json, res.redirect, express.static, res.sendFile: headers as GET, no body, connection reusable', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/send', (_req: Any, res: Any) => res.send('hello'));
        app.get('/json', (_req: Any, res: Any) => res.json({ a: 1 }));
        app.get('/redirect', (_req: Any, res: Any) => res.redirect('/target'));
        app.get('/file', (_req: Any, res: Any) => res.sendFile(file, { lastModified: false, etag: false }));
        app.use('/static', expressModule(name).static(dir));
      }),
      (c) => getAndHead(c, ['/send', '/json', '/redirect', '/file', '/static/hello.txt']),
    );
  });
});

describe.each(KOA)('%s: HEAD (row 6)', (name) => {
  test('string, JSON, stream with and without a known length', async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use((ctx: Any) => {
            if (ctx.path === '/string') ctx.body = 'hello';
            else if (ctx.path === '/json') ctx.body = { a: 1 };
            else if (ctx.path === '/stream') ctx.body = createReadStream(file);
            else if (ctx.path === '/stream-length') {
              ctx.length = statSync(file).size;
              ctx.body = createReadStream(file);
            }
          }),
      }),
      (c) => getAndHead(c, ['/string', '/json', '/stream', '/stream-length']),
    );
  });
});

describe.each(FASTIFY)('%s: HEAD (row 6)', (name) => {
  test('automatic HEAD routes: string, JSON, stream', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) => {
          fastify.get('/string', async () => 'hello');
          fastify.get('/json', async () => ({ a: 1 }));
          fastify.get('/stream', (_q: Any, reply: Any) => reply.type('text/plain').send(createReadStream(file)));
        },
      }),
      (c) => getAndHead(c, ['/string', '/json', '/stream']),
    );
  });
});

describe.each(ALL)('%s: HEAD on the raw res (row 6)', (name) => {
  test.each([
    ['end(data): node:http sends no Content-Length on HEAD', (_q: Any, res: Any) => res.end('hello')],
    ['explicit Content-Length is kept', (req: Any, res: Any) => res.writeHead(200, { 'Content-Length': 5 }).end(req.method === 'HEAD' ? undefined : 'hello')],
    ['write() + end()', (_q: Any, res: Any) => {
      res.write('a');
      res.end('b');
    }],
  ])('%s', async (_title, handler) => {
    await differential(rawApp(name, handler), (c) => getAndHead(c, ['/']));
  });
});

// ---- row 7 ----------------------------------------------------------------------------------

describe.each(ALL)('%s: 204 / 205 / 304 on the raw res (row 7)', (name) => {
  test.each([
    ['204 with a body and Content-Length', (_q: Any, res: Any) => res.writeHead(204, { 'Content-Length': 5, 'Content-Type': 'text/plain' }).end('hello')],
    ['205 with a body', (_q: Any, res: Any) => res.writeHead(205).end('hello')],
    ['304 with a body', (_q: Any, res: Any) => res.writeHead(304, { ETag: '"x"' }).end('hello')],
    ['204 with write() and end()', (_q: Any, res: Any) => {
      res.statusCode = 204;
      res.write('a');
      res.end();
    }],
  ])('%s', async (_title, handler) => {
    await differential(rawApp(name, handler), async (c) => [await c.exchange(req('GET', '/')), await c.exchange(req('HEAD', '/'), { head: true })]);
  });
});

/** A first GET to learn the validators, then conditional GETs with them. */
async function conditional(c: Ctx, path: string) {
  const first = await c.exchange(req('GET', path));
  const etag = first.response.headers.find((h) => h.startsWith('etag: '))?.slice(6);
  const modified = first.response.headers.find((h) => h.startsWith('last-modified: '))?.slice(15);
  const out: Record<string, unknown> = { first };
  if (etag !== undefined) {
    out.ifNoneMatch = await c.exchange(req('GET', path, { 'If-None-Match': etag }));
    out.ifNoneMatchOther = await c.exchange(req('GET', path, { 'If-None-Match': '"other"' }));
  }
  if (modified !== undefined) out.ifModifiedSince = await c.exchange(req('GET', path, { 'If-Modified-Since': modified }));
  return out;
}

describe.each(EXPRESS)('%s: 204 / 205 / 304 (row 7)', (name) => {
  test('res.status(204|205|304).send(body), sendStatus(204): Express strips what it must', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/204', (_q: Any, res: Any) => res.status(204).set('Content-Type', 'text/plain').send('x'));
        app.get('/205', (_q: Any, res: Any) => res.status(205).send('x'));
        app.get('/304', (_q: Any, res: Any) => res.status(304).send('x'));
        app.get('/sendStatus', (_q: Any, res: Any) => res.sendStatus(204));
      }),
      async (c) => Promise.all(['/204', '/205', '/304', '/sendStatus'].map((p) => c.exchange(req('GET', p)))),
    );
  });

  test('conditional GET: ETag from res.send, Last-Modified from express.static', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/etag', (_q: Any, res: Any) => res.send('hello etag'));
        app.use('/static', expressModule(name).static(dir));
      }),
      async (c) => ({ send: await conditional(c, '/etag'), static: await conditional(c, '/static/hello.txt') }),
    );
  });
});

describe.each(KOA)('%s: 204 / 205 / 304 (row 7)', (name) => {
  test('ctx.status 204/205/304 with a body; conditional GET with ctx.fresh', async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use((ctx: Any) => {
            if (ctx.path === '/fresh') {
              ctx.set('ETag', '"v1"');
              ctx.set('Last-Modified', new Date('2024-01-02T03:04:05Z').toUTCString());
              if (ctx.fresh) ctx.status = 304;
              else ctx.body = 'fresh body';
              return;
            }
            ctx.body = 'x';
            ctx.status = Number(ctx.path.slice(1));
          }),
      }),
      async (c) => ({
        statuses: await Promise.all(['/204', '/205', '/304'].map((p) => c.exchange(req('GET', p)))),
        fresh: await conditional(c, '/fresh'),
      }),
    );
  });
});

describe.each(FASTIFY)('%s: 204 / 205 / 304 (row 7)', (name) => {
  test('reply.code(204|205|304).send(body); a conditional GET answered 304', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) => {
          for (const code of [204, 205, 304]) fastify.get(`/${code}`, (_q: Any, reply: Any) => reply.code(code).send('x'));
          fastify.get('/fresh', (request: Any, reply: Any) => {
            reply.header('ETag', '"v1"');
            if (request.headers['if-none-match'] === '"v1"') return reply.code(304).send();
            return reply.send('fresh body');
          });
        },
      }),
      async (c) => ({
        statuses: await Promise.all(['/204', '/205', '/304'].map((p) => c.exchange(req('GET', p)))),
        fresh: await conditional(c, '/fresh'),
      }),
    );
  });
});

// ---- row 18 ---------------------------------------------------------------------------------

async function redirects(c: Ctx, path: string) {
  return {
    html: await c.exchange(req('GET', path, { Accept: 'text/html' })),
    text: await c.exchange(req('GET', path, { Accept: 'text/plain' })),
    none: await c.exchange(req('GET', path)),
    head: await c.exchange(req('HEAD', path, { Accept: 'text/html' }), { head: true }),
  };
}

describe.each(EXPRESS)('%s: redirects (row 18)', (name) => {
  test('res.redirect: status, Location as encodeurl leaves it, body by Accept, HEAD without body', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/r', (_q: Any, res: Any) => res.redirect('/target?q=a b&x=%41&é'));
        app.get('/r301', (_q: Any, res: Any) => res.redirect(301, 'http://example.com/elsewhere'));
      }),
      async (c) => ({ r: await redirects(c, '/r'), r301: await redirects(c, '/r301') }),
    );
  });
});

describe.each(KOA)('%s: redirects (row 18)', (name) => {
  test('ctx.redirect: status, Location, body by Accept, HEAD without body', async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use((ctx: Any) => {
            if (ctx.path === '/r301') ctx.status = 301;
            ctx.redirect('/target?q=a b&é');
          }),
      }),
      async (c) => ({ r: await redirects(c, '/r'), r301: await redirects(c, '/r301') }),
    );
  });
});

describe.each(FASTIFY)('%s: redirects (row 18)', (name) => {
  test('reply.redirect: status, Location, HEAD without body', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) => {
          fastify.get('/r', (_q: Any, reply: Any) => reply.redirect('/target?q=a%20b'));
          fastify.get('/r301', (_q: Any, reply: Any) => reply.code(301).redirect('http://example.com/elsewhere'));
        },
      }),
      async (c) => ({ r: await redirects(c, '/r'), r301: await redirects(c, '/r301') }),
    );
  });
});

// ---- row 32 ---------------------------------------------------------------------------------

const INTERIM: [string, (req: Any, res: Any) => unknown][] = [
  ['writeEarlyHints (103 with Link) before the response', (_q, res) => {
    res.writeEarlyHints({ link: ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script'] });
    res.end('ok');
  }],
  ['writeProcessing (102), twice, then the response', (_q, res) => {
    res.writeProcessing();
    res.writeProcessing();
    res.end('ok');
  }],
  ['writeContinue without Expect', (_q, res) => {
    res.writeContinue();
    res.end('ok');
  }],
];

describe.each(ALL)('%s: interim responses (row 32)', (name) => {
  test.each(INTERIM)('%s', async (_title, handler) => {
    await differential(rawApp(name, handler), (c) => c.exchange(req('GET', '/')));
  });

  test.each(INTERIM)('HTTP/1.0 client: %s (no 1xx on Rocket: INTENTIONAL.http10)', async (_title, handler) => {
    await differential(rawApp(name, handler), (c) => c.exchange(req('GET', '/', {}, '', '1.0'), { probe: false }), { allow: ['http10'] });
  });
});

// ---- statuses 600–999 -------------------------------------------------------------------------

describe.each(ALL)('%s: statuses from 600 to 999 on the raw res', (name) => {
  test.each([
    ['res.statusCode = 700 + end(data)', (_q: Any, res: Any) => {
      res.statusCode = 700;
      res.end('seven hundred');
    }],
    ['writeHead(999) + end()', (_q: Any, res: Any) => res.writeHead(999).end()],
    ['writeHead(600, reason)', (_q: Any, res: Any) => res.writeHead(600, 'Six Hundred', { 'Content-Type': 'text/plain' }).end('x')],
    ['writeHead(299): a code without a registered reason phrase', (_q: Any, res: Any) => res.writeHead(299).end('x')],
  ])('%s: sent as node:http sends it, the connection kept', async (_title, handler) => {
    await differential(rawApp(name, handler), async (c) => [await c.exchange(req('GET', '/')), await c.exchange(req('HEAD', '/'), { head: true })]);
  });
});

describe.each(EXPRESS)('%s: statuses from 600 to 999', (name) => {
  test('res.status(700).send(), res.sendStatus(999)', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/700', (_q: Any, res: Any) => res.status(700).send('x'));
        app.get('/999', (_q: Any, res: Any) => res.sendStatus(999));
      }),
      async (c) => [await c.exchange(req('GET', '/700')), await c.exchange(req('GET', '/999'))],
    );
  });
});

describe.each(KOA)('%s: statuses from 600 to 999', (name) => {
  test('ctx.status = 700 with and without a body', async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use((ctx: Any) => {
            ctx.status = 700;
            if (ctx.path === '/body') ctx.body = 'x';
          }),
      }),
      async (c) => [await c.exchange(req('GET', '/body')), await c.exchange(req('GET', '/empty'))],
    );
  });
});
