/**
 * Response heads and connections: §7.7 rows 17 (cookies), 20 (writeHead variants and header
 * edge cases), 21 (Content-Length mismatch) and 22 (keep-alive, `Connection`, HTTP/1.0).
 */

import cookieParser from 'cookie-parser';
import session from 'express-session';
import { describe, expect, test } from 'vitest';
import { type Ctx, differential, type Mismatch, parsePartial, POLL, req, withServer } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, FASTIFY, rawApp } from './frameworks.js';

// ---- row 17: cookies --------------------------------------------------------------------------

/** Two Cookie fields in the request (as h2 clients split them) and the Set-Cookie lines back. */
async function cookies(c: Ctx) {
  return c.exchange('GET /cookies HTTP/1.1\r\nHost: localhost\r\nCookie: x=1; z=3\r\nCookie: y=2\r\n\r\n');
}

describe.each(ALL)('%s: cookies (row 17)', (name) => {
  test('several Set-Cookie lines, never joined; several Cookie fields joined with "; "', async () => {
    await differential(
      appFor(name, {
        express: (app) => {
          app.use(cookieParser('secret'));
          app.use(session({ secret: 'secret', resave: false, saveUninitialized: true, genid: () => 'fixed-session-id', name: 'sid' }));
          app.get('/cookies', (req: Any, res: Any) => {
            res.cookie('a', '1');
            res.cookie('b', 'two, with comma', { httpOnly: true, path: '/x' });
            res.json({ header: req.headers.cookie, parsed: req.cookies });
          });
        },
        koa: (app) =>
          app.use((ctx: Any) => {
            ctx.cookies.set('a', '1', { httpOnly: false });
            ctx.cookies.set('b', 'two', { path: '/x' });
            ctx.set('Set-Cookie', [...(ctx.response.get('Set-Cookie') as string[]), 'c=3; SameSite=Lax']);
            ctx.body = { header: ctx.get('Cookie'), y: ctx.cookies.get('y') };
          }),
        fastify: (fastify) =>
          fastify.get('/cookies', (request: Any, reply: Any) => {
            reply.header('set-cookie', ['a=1', 'b=two; HttpOnly', 'c=3; Path=/x']);
            return { header: request.headers.cookie };
          }),
      }),
      cookies,
    );
  });
});

// ---- row 20: writeHead variants and header edge cases -----------------------------------------

const HEADS: [string, (req: Any, res: Any, hooks: Any) => unknown][] = [
  ['writeHead(code)', (_q, res) => res.writeHead(201).end('x')],
  ['writeHead(code, reason)', (_q, res) => res.writeHead(202, 'Custom Reason Phrase').end('x')],
  ['writeHead(code, object)', (_q, res) => res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Obj': 'o' }).end('x')],
  ['writeHead(code, reason, object)', (_q, res) => res.writeHead(200, 'Fine', { 'X-Obj': 'o' }).end('x')],
  ['writeHead(code, [[k, v], …]) with duplicates', (_q, res) => res.writeHead(200, [['X-Dup', '1'], ['X-Dup', '2']]).end('x')],
  ['writeHead(code, flat [k, v, k, v]) with Set-Cookie twice', (_q, res) => res.writeHead(200, ['X-Dup', '1', 'X-Dup', '2', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']).end('x')],
  ['setHeader() then writeHead(object): merged', (_q, res) => {
    res.setHeader('X-Set', 'set');
    res.setHeader('X-Both', 'from setHeader');
    res.writeHead(200, { 'X-Obj': 'obj', 'X-Both': 'from writeHead' }).end('x');
  }],
  ['numeric and array values, appendHeader, setHeaders', (_q, res) => {
    res.setHeader('X-Num', 42);
    res.setHeader('X-Arr', ['a', 'b']);
    res.appendHeader('X-Appended', 'one');
    res.appendHeader('X-Appended', 'two');
    res.setHeaders(new Map([['X-From-Map', 'm']]));
    res.setHeader('X-Empty', '');
    res.end('x');
  }],
  ['a custom statusMessage, and a status without a registered reason', (req, res) => {
    res.statusCode = req.url === '/odd' ? 599 : 200;
    if (req.url !== '/odd') res.statusMessage = 'Everything Is Fine';
    res.end('x');
  }],
  ['invalid header values and names are refused by Node (no response splitting)', (_q, res, hooks) => {
    for (const [name, value] of [['X-Bad', 'a\r\nInjected: yes'], ['Bad Name', 'v'], ['X-Nul', 'a\u0000b'], ['X-Undefined', undefined]]) {
      try {
        res.setHeader(name, value);
        hooks.values[name as string] = 'accepted';
      } catch (error: Any) {
        hooks.values[name as string] = error.code;
      }
    }
    res.end('x');
  }],
  ['setHeader() after the head was sent throws ERR_HTTP_HEADERS_SENT', (_q, res, hooks) => {
    res.write('x');
    try {
      res.setHeader('X-Late', '1');
    } catch (error: Any) {
      hooks.values.late = error.code;
    }
    res.end();
  }],
];

/** Header names exactly as sent, in order (what a case-sensitive client sees). */
async function rawNames(c: Ctx, path: string) {
  const client = await c.connect();
  await client.send(req('GET', path));
  const response = await client.raw.readResponse();
  client.destroy();
  const skip = new Set(['date', 'connection', 'keep-alive', 'server', 'content-length', 'transfer-encoding']);
  return response.headers.map(([n]) => n).filter((n) => !skip.has(n.toLowerCase()));
}

describe.each(ALL)('%s: writeHead variants and header edge cases (row 20)', (name) => {
  test.each(HEADS)('%s', async (_title, handler) => {
    await differential(rawApp(name, handler), async (c) => ({
      plain: await c.exchange(req('GET', '/')),
      odd: await c.exchange(req('GET', '/odd')),
    }));
  });

  test('header-name case is kept as the app wrote it', async () => {
    await differential(
      rawApp(name, (_q, res) => {
        res.setHeader('X-MiXeD-CaSe', '1');
        res.setHeader('x-lower', '2');
        res.writeHead(200, { 'X-From-WriteHead': '3' }).end('x');
      }),
      (c) => rawNames(c, '/'),
    );
  });
});

describe.each(EXPRESS)('%s: Express header helpers (row 20)', (name) => {
  test('res.set / append / type / vary / location / links', async () => {
    await differential(
      expressApp(name, (app) =>
        app.get('/', (_q: Any, res: Any) => {
          res.set({ 'X-One': '1', 'X-Two': ['a', 'b'] });
          res.append('X-Two', 'c');
          res.type('json');
          res.vary('Accept').vary('Origin');
          res.location('/somewhere else');
          res.links({ next: '/page/2' });
          res.send('{"x":1}');
        }),
      ),
      (c) => c.exchange(req('GET', '/')),
    );
  });
});

describe.each(FASTIFY)('%s: the writeHead(status, headers) fast path (row 20)', (name) => {
  test('reply.header with arrays, numbers and mixed case; reply.headers(); removeHeader', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) =>
          fastify.get('/', (_q: Any, reply: Any) => {
            reply.header('X-MiXeD', 'm').header('x-num', 7).header('x-arr', ['1', '2']);
            reply.headers({ 'x-bulk': 'b', 'x-gone': 'g' });
            reply.removeHeader('x-gone');
            reply.code(203);
            return { ok: true };
          }),
      }),
      async (c) => ({ response: await c.exchange(req('GET', '/')), names: await rawNames(c, '/') }),
    );
  });
});

// ---- row 21: Content-Length mismatch ---------------------------------------------------------

/**
 * The response as far as both its Content-Length and what the app wrote allow, what came after
 * (until node:http answers a probe sent behind it, or the connection ends), and whether the
 * connection stayed open.
 */
async function mismatch(c: Ctx, length: number, written: number): Promise<Mismatch> {
  const body = Math.min(length, written);
  const client = await c.connect();
  await client.send(req('GET', '/'));
  const finished = () => c.hooks.recorder.requests[0]?.events.some((e) => e.startsWith('res:finish')) ?? false;
  const head = () => client.raw.pending.indexOf('\r\n\r\n');
  await expect.poll(() => client.raw.ended || (finished() && head() !== -1 && client.raw.pending.length >= head() + 4 + body), POLL).toBe(true);
  if (!client.raw.ended) await client.send(`GET /__differential_probe HTTP/1.1\r\nHost: probe\r\n\r\n`);
  await expect.poll(() => client.raw.ended || client.raw.pending.includes('probe'), POLL).toBe(true);
  const all = client.raw.pending;
  const start = all.indexOf('\r\n\r\n') + 4;
  const response = parsePartial(all.subarray(0, start + body), false);
  if (response === null) throw new Error(`[${c.side}] no response head before the connection ended`);
  const extra = all.subarray(start + body).toString('latin1');
  return { lengthMismatch: true, response: { ...response, complete: true }, extra, connection: client.raw.ended ? 'closed' : 'open' };
}

describe.each(ALL)('%s: Content-Length mismatch (row 21; INTENTIONAL.lengthMismatch)', (name) => {
  test('Content-Length 10, 5 bytes sent: no hang for the client, no extra bytes', async () => {
    await differential(
      rawApp(name, (_q, res) => res.writeHead(200, { 'Content-Length': 10 }).end('12345')),
      (c) => mismatch(c, 10, 5),
      { allow: ['lengthMismatch'] },
    );
  });

  test('Content-Length 5, 10 bytes sent: the excess never reaches the client', async () => {
    await differential(
      rawApp(name, (_q, res) => res.writeHead(200, { 'Content-Length': 5 }).end('1234567890')),
      (c) => mismatch(c, 5, 10),
      { allow: ['lengthMismatch'] },
    );
  });
});

// ---- row 22: keep-alive and Connection ---------------------------------------------------------

describe.each(ALL)('%s: keep-alive and Connection (row 22)', (name) => {
  test('an app-set Connection: close is honoured', async () => {
    await differential(
      rawApp(name, (_q, res) => {
        res.setHeader('Connection', 'close');
        res.end('bye');
      }),
      (c) => c.exchange(req('GET', '/')),
    );
  });

  test('HTTP/1.0: closed by default, kept with Connection: keep-alive, a streamed body delimited by the close', async () => {
    await differential(
      rawApp(name, (req, res) => {
        if (req.url === '/stream') {
          res.write('streamed ');
          res.end('body');
        } else res.end('known length');
      }),
      async (c) => ({
        plain: await c.exchange(req('GET', '/', {}, '', '1.0')),
        keepAlive: await c.exchange(req('GET', '/', { Connection: 'keep-alive' }, '', '1.0')),
        stream: await c.exchange(req('GET', '/stream', {}, '', '1.0')),
        streamKeepAlive: await c.exchange(req('GET', '/stream', { Connection: 'keep-alive' }, '', '1.0')),
      }),
    );
  });

  test('the client says Connection: close', async () => {
    await differential(rawApp(name, (_q, res) => res.end('ok')), (c) => c.exchange(req('GET', '/', { Connection: 'close' })));
  });
});

describe.each(EXPRESS)('%s: server.maxRequestsPerSocket (row 22)', (name) => {
  test('after the last allowed response (INTENTIONAL.maxRequests)', async () => {
    await differential(
      withServer(
        expressApp(name, (app) => app.get('/', (_q: Any, res: Any) => res.send('ok'))),
        (server) => {
          server.maxRequestsPerSocket = 2;
        },
      ),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/'));
        const first = await client.read();
        await client.send(req('GET', '/'));
        const response = await client.read();
        return { first, response, connection: await client.probe() };
      },
      { allow: ['maxRequests'] },
    );
  });
});

describe.each(FASTIFY)('%s: closing while a request is in flight (row 22)', (name) => {
  test('fastify.close(): the response in flight completes; then the connection (INTENTIONAL.closeEndsBusy)', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify, hooks) => {
          hooks.locals.fastify = fastify;
          fastify.get('/slow', async () => {
            hooks.signal('entered');
            await hooks.gate('finish');
            return 'slow done';
          });
        },
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/slow'));
        await c.hooks.wait('entered');
        const closing = c.hooks.locals.fastify.close();
        await expect.poll(() => c.server.listening, POLL).toBe(false);
        c.hooks.signal('finish');
        const response = await client.read();
        const connection = await client.probe();
        client.destroy();
        await closing;
        return { response, connection };
      },
      { allow: ['closeEndsBusy'] },
    );
  });
});
