/**
 * What the app learns about the request: §7.7 rows 23 (URL fidelity), 24 (ip, protocol, host,
 * trust proxy, IPv6, TLS), 27 (async context per request) and 30 (prototype isolation: Express 4
 * and 5 in one process, sub-apps, genuine Node objects).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { describe, expect, test } from 'vitest';
import { makeCerts } from '../../packages/core/test/helpers/certs.js';
import { type Ctx, differential, type Hooks, req } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, expressModule, fastifyApp, type FrameworkName, KOA, makeExpress, makeKoa } from './frameworks.js';

// ---- row 23: URL fidelity -----------------------------------------------------------------------

const TARGETS = [
  '/a%2Fb?x=1+2&y=%20z',
  '//double//slash',
  '/a/../b/./c',
  '/%C3%A9t%C3%A9?q=%E2%9C%93',
  '/api/sub/path?x=1&x=2',
  '/path;matrix=1',
  '/?',
  `/long?${'q'.repeat(6000)}`,
];

/** Echo what the framework made of the target. */
function urlApp(name: FrameworkName) {
  return appFor(name, {
    express: (app) => {
      const router = expressModule(name as 'express4').Router();
      router.use((req: Any, res: Any) => res.json({ mounted: true, url: req.url, originalUrl: req.originalUrl, baseUrl: req.baseUrl, path: req.path, query: req.query }));
      app.use('/api', router);
      app.use((req: Any, res: Any) => res.json({ url: req.url, originalUrl: req.originalUrl, path: req.path, query: req.query, hostname: req.hostname }));
    },
    koa: (app) =>
      app.use((ctx: Any) => {
        ctx.body = { url: ctx.url, originalUrl: ctx.originalUrl, path: ctx.path, querystring: ctx.querystring, query: ctx.query, host: ctx.host };
      }),
    fastify: (fastify) => {
      fastify.get('/api/*', async (request: Any) => ({ route: 'api', url: request.url, params: request.params, query: request.query }));
      fastify.setNotFoundHandler((request: Any, reply: Any) => reply.code(200).send({ url: request.url, query: request.query, method: request.method }));
    },
  });
}

describe.each(ALL)('%s: URL fidelity (row 23)', (name) => {
  test('encoded slashes, plus signs, dot segments, double slashes, percent-encoded UTF-8, mounts, a 6 KB query', async () => {
    await differential(urlApp(name), async (c) => {
      const out: Record<string, unknown> = {};
      for (const target of TARGETS) out[target.slice(0, 40)] = await c.exchange(req('GET', target));
      return out;
    });
  });

  test('absolute-form target and OPTIONS *', async () => {
    await differential(urlApp(name), async (c) => ({
      absolute: await c.exchange(req('GET', 'http://localhost/abs/path?x=1')),
      asterisk: await c.exchange(req('OPTIONS', '*')),
    }));
  });

  test('a raw non-ASCII target and a 10 KB request line (INTENTIONAL.coreRefusal)', async () => {
    await differential(
      urlApp(name),
      async (c) => ({
        raw: (await c.exchange(Buffer.from(req('GET', '/café'), 'utf8'), { probe: false })).response,
        long: (await c.exchange(req('GET', `/long?${'q'.repeat(10_000)}`), { probe: false })).response,
      }),
      { allow: ['coreRefusal'], traces: false },
    );
  });
});

// ---- row 24: ip, protocol, host, trust proxy, IPv6, TLS ----------------------------------------

const FORWARDED = { 'X-Forwarded-For': '203.0.113.7, 198.51.100.2', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'public.example' };

function infoApp(name: FrameworkName, trust: boolean) {
  if (name.startsWith('fastify')) {
    // Fastify's trustProxy is a constructor option.
    return fastifyApp(
      name as 'fastify5',
      (fastify) =>
        fastify.get('/', async (request: Any) => ({
          ip: request.ip,
          ips: request.ips ?? null,
          protocol: request.protocol,
          hostname: request.hostname,
          remoteFamily: request.raw.socket.remoteFamily,
          encrypted: request.raw.socket.encrypted ?? null,
        })),
      { trustProxy: trust },
    );
  }
  return appFor(name, {
    express: (app) => {
      app.set('trust proxy', trust);
      app.use((req: Any, res: Any) =>
        res.json({ ip: req.ip, ips: req.ips, protocol: req.protocol, secure: req.secure, hostname: req.hostname, remoteFamily: req.socket.remoteFamily, encrypted: req.socket.encrypted ?? null }),
      );
    },
    koa: (app) => {
      app.proxy = trust;
      app.use((ctx: Any) => {
        ctx.body = { ip: ctx.ip, ips: ctx.ips, protocol: ctx.protocol, secure: ctx.secure, host: ctx.host, hostname: ctx.hostname, remoteFamily: ctx.req.socket.remoteFamily, encrypted: ctx.req.socket.encrypted ?? null };
      });
    },
  });
}

async function info(c: Ctx) {
  return { plain: await c.exchange(req('GET', '/')), forwarded: await c.exchange(req('GET', '/', FORWARDED)) };
}

describe.each(ALL)('%s: ip, protocol, host (row 24)', (name) => {
  test.each([false, true])('IPv4, trust proxy %s', async (trust) => {
    await differential(infoApp(name, trust), info);
  });
});

describe.each([...EXPRESS, ...KOA])('%s: IPv6, IPv4-mapped and TLS (row 24)', (name) => {
  test('over IPv6 (::1)', async () => {
    await differential(async (hooks) => ({ ...((await infoApp(name, false)(hooks)) as Any), host: '::1' }), info);
  });

  test('a server on :: reached over IPv4: the IPv4-mapped address', async () => {
    await differential(async (hooks) => ({ ...((await infoApp(name, false)(hooks)) as Any), host: '::' }), async (c) => {
      const client = await c.connect('127.0.0.1');
      await client.send(req('GET', '/'));
      const response = await client.read();
      client.destroy();
      return { response };
    });
  });

  test('over TLS terminated by the server', async () => {
    const certs = makeCerts();
    try {
      await differential(
        async (hooks) => ({ ...((await infoApp(name, false)(hooks)) as Any), tls: { keyFile: certs.serverKey, certFile: certs.serverCert, ca: certs.read(certs.caCert) } }),
        info,
      );
    } finally {
      certs.remove();
    }
  });
});

// ---- row 27: async context ------------------------------------------------------------------------

const als = new AsyncLocalStorage<string>();

/** Two requests in flight at once: each handler sees its own store after awaiting the other. */
async function overlapping(c: Ctx) {
  const a = await c.connect();
  const b = await c.connect();
  await a.send(req('GET', '/a', { 'X-Id': 'a' }));
  await c.hooks.wait('entered a');
  await b.send(req('GET', '/b', { 'X-Id': 'b' }));
  const [ra, rb] = await Promise.all([a.read(), b.read()]);
  return { a: ra, b: rb };
}

/** The handler for `id`: waits until the other request is in, then answers with what it sees. */
async function holdUntilBoth(id: string, hooks: Hooks, read: () => unknown) {
  const before = read();
  hooks.signal(`entered ${id}`);
  await hooks.gate(`entered ${id === 'a' ? 'b' : 'a'}`);
  await new Promise((resolve) => setImmediate(resolve));
  return { before, after: read() };
}

describe.each(ALL)('%s: async context per request (row 27)', (name) => {
  test('AsyncLocalStorage entered per request does not bleed between concurrent requests', async () => {
    await differential(
      appFor(name, {
        express: (app, hooks) => {
          app.use((req: Any, _res: Any, next: Any) => als.run(req.headers['x-id'], next));
          app.get('/:id', async (req: Any, res: Any) => res.json(await holdUntilBoth(req.params.id, hooks, () => als.getStore())));
        },
        koa: (app, hooks) =>
          app.use(async (ctx: Any) => {
            const id = ctx.get('x-id');
            ctx.body = await als.run(id, () => holdUntilBoth(id, hooks, () => als.getStore()));
          }),
        fastify: (fastify, hooks) => {
          fastify.addHook('onRequest', (request: Any, _reply: Any, done: Any) => als.run(request.headers['x-id'], done));
          fastify.get('/:id', async (request: Any) => holdUntilBoth(request.params.id, hooks, () => als.getStore()));
        },
      }),
      overlapping,
    );
  });

  test('nothing leaks in from the server: no store at the first line of the handler', async () => {
    await differential(
      appFor(name, {
        express: (app) => app.get('/', (_q: Any, res: Any) => res.json({ store: als.getStore() ?? null })),
        koa: (app) =>
          app.use((ctx: Any) => {
            ctx.body = { store: als.getStore() ?? null };
          }),
        fastify: (fastify) => fastify.get('/', async () => ({ store: als.getStore() ?? null })),
      }),
      (c) => als.run('entered by the test client', () => c.exchange(req('GET', '/'))),
    );
  });
});

describe.each(KOA)('%s: Koa asyncLocalStorage option (row 27)', (name) => {
  test('app.currentContext is the request own context', async () => {
    await differential(
      (hooks) => {
        const app = makeKoa(name, { asyncLocalStorage: true });
        app.use(async (ctx: Any) => {
          const id = ctx.get('x-id');
          ctx.body = await holdUntilBoth(id, hooks, () => app.currentContext?.get('x-id') ?? null);
        });
        return { kind: 'listener', listener: app.callback() };
      },
      overlapping,
    );
  });
});

// ---- row 30: prototype isolation ----------------------------------------------------------------

describe('Express 4 and 5 in one process (row 30)', () => {
  test('an Express 4 app mounted in an Express 5 app; genuine IncomingMessage/ServerResponse; prototypes untouched', async () => {
    const before = {
      req: Object.getOwnPropertyNames(http.IncomingMessage.prototype).sort(),
      res: Object.getOwnPropertyNames(http.ServerResponse.prototype).sort(),
      reqProto: Object.getPrototypeOf(http.IncomingMessage.prototype),
    };
    const facts = (req: Any, res: Any, app: Any) => ({
      incomingMessage: req instanceof http.IncomingMessage,
      serverResponse: res instanceof http.ServerResponse,
      appRequest: Object.getPrototypeOf(req) === app.request,
      appResponse: Object.getPrototypeOf(res) === app.response,
      baseUrl: req.baseUrl,
      url: req.url,
      originalUrl: req.originalUrl,
      resReq: res.req === req,
      reqRes: req.res === res,
    });
    await differential(
      () => {
        const app5 = makeExpress('express5');
        const app4 = makeExpress('express4');
        app4.get('/inner', (req: Any, res: Any) => res.json({ v4: facts(req, res, app4) }));
        app5.use('/v4', app4);
        app5.get('/outer', (req: Any, res: Any) => res.json({ v5: facts(req, res, app5) }));
        return { kind: 'listener', listener: app5 };
      },
      async (c) => ({ inner: await c.exchange(req('GET', '/v4/inner?x=1')), outer: await c.exchange(req('GET', '/outer')) }),
    );
    expect({
      req: Object.getOwnPropertyNames(http.IncomingMessage.prototype).sort(),
      res: Object.getOwnPropertyNames(http.ServerResponse.prototype).sort(),
      reqProto: Object.getPrototypeOf(http.IncomingMessage.prototype),
    }).toEqual(before);
  });

  test.each(EXPRESS)('%s alone: the request objects are genuine and carry their app prototypes', async (name) => {
    await differential(
      expressApp(name, (app) =>
        app.get('/', (req: Any, res: Any) =>
          res.json({
            incomingMessage: req instanceof http.IncomingMessage,
            serverResponse: res instanceof http.ServerResponse,
            appRequest: Object.getPrototypeOf(req) === app.request,
          }),
        ),
      ),
      (c) => c.exchange(req('GET', '/')),
    );
  });
});
