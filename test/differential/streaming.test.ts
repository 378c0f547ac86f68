/**
 * §7.7 rows 1 (streaming without Content-Length), 2 (the ways a response ends), 3 (SSE and
 * flushHeaders) and 4 (response backpressure).
 */

import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { gunzipSync, constants as zlib } from 'node:zlib';
import compression from 'compression';
import { describe, expect, test } from 'vitest';
import { type Ctx, differential, type Hooks, partialBody, POLL, req } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, FASTIFY, KOA, rawApp } from './frameworks.js';

/** Chunks whose contents look like chunked framing: a CRLF, a fake last-chunk, a fake size line. */
const CHUNKS = ['first\r\n', '0\r\n\r\n', 'a\r\nthird\r\n\r\n'];

/** Write CHUNKS one by one; after each, wait until the test saw it arrive. */
async function writeGated(write: (chunk: string) => void, hooks: Hooks): Promise<void> {
  for (let i = 0; i < CHUNKS.length; i++) {
    write(CHUNKS[i]!);
    hooks.signal(`wrote-${i}`);
    await hooks.gate(`next-${i}`);
  }
}

/** Each chunk reaches the client before the app writes the next one. */
async function readGated(c: Ctx, path = '/') {
  const client = await c.connect();
  await client.send(req('GET', path));
  for (let i = 0; i < CHUNKS.length; i++) {
    await c.hooks.wait(`wrote-${i}`);
    await expect.poll(() => client.raw.pending.includes(CHUNKS[i]!), POLL).toBe(true);
    c.hooks.signal(`next-${i}`);
  }
  const response = await client.read();
  return { response, connection: await client.probe() };
}

describe.each(ALL)('%s: streaming response without Content-Length (row 1)', (name) => {
  test('each chunk arrives before the next is written; chunks containing CRLF and "0\\r\\n\\r\\n" decode exactly', async () => {
    const d = await differential(
      appFor(name, {
        express: (app, hooks) =>
          app.get('/', async (_req: Any, res: Any) => {
            res.setHeader('Content-Type', 'text/plain');
            await writeGated((chunk) => res.write(chunk), hooks);
            res.end();
          }),
        koa: (app, hooks) =>
          app.use((ctx: Any) => {
            const body = new PassThrough();
            ctx.type = 'text/plain';
            ctx.body = body;
            void writeGated((chunk) => body.write(chunk), hooks).then(() => body.end());
          }),
        fastify: (fastify, hooks) =>
          fastify.get('/', (_request: Any, reply: Any) => {
            const body = new PassThrough();
            void writeGated((chunk) => body.write(chunk), hooks).then(() => body.end());
            reply.type('text/plain').send(body);
          }),
      }),
      (c) => readGated(c),
    );
    expect(d.node.result.response.body).toBe(CHUNKS.join(''));
    expect(d.node.result.response.transferEncoding).toBe('chunked');
  });
});

/** Node-level ways of ending a response (H4ad#206/#393, Content-Length for a single end(data)). */
const ENDINGS: [string, (req: Any, res: Any) => unknown][] = [
  ['write() then end(data)', (_req, res) => {
    res.write('a');
    res.end('b');
  }],
  ['end(data) only: Content-Length computed', (_req, res) => res.end('hello')],
  ['end(Buffer) only', (_req, res) => res.end(Buffer.from([0, 1, 2, 255]))],
  ['writeHead(200) then end(): empty chunked body, terminator in the head write', (_req, res) => res.writeHead(200).end()],
  ['writeHead(200, {Content-Length: 0}).end()', (_req, res) => res.writeHead(200, { 'Content-Length': 0 }).end()],
  ["end('') after an await", async (_req, res) => {
    await tick();
    res.end('');
  }],
  ['statusCode = 500; end() after an await', async (_req, res) => {
    await tick();
    res.statusCode = 500;
    res.end();
  }],
  ['flushHeaders() then end() on a later tick', async (_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.flushHeaders();
    await tick();
    res.end();
  }],
  ['flushHeaders() then write() and end()', async (_req, res) => {
    res.flushHeaders();
    await tick();
    res.write('x');
    await tick();
    res.end('y');
  }],
  ['write(empty) then end()', (_req, res) => {
    res.write('');
    res.end();
  }],
  ['cork(); write() ×2; uncork(); end()', (_req, res) => {
    res.cork();
    res.write('a');
    res.write('b');
    res.uncork();
    res.end();
  }],
];

describe.each(ALL)('%s: the ways a response ends, on the raw res (row 2)', (name) => {
  test.each(ENDINGS)('%s', async (_title, handler) => {
    await differential(rawApp(name, (req, res) => handler(req, res)), (c) => c.exchange(req('GET', '/')));
  });
});

describe.each(EXPRESS)('%s: framework ways of ending (row 2)', (name) => {
  test('res.status(500).send() after an await (H4ad#393); res.send() of a Buffer; res.end() with nothing', async () => {
    await differential(
      expressApp(name, (app) => {
        app.get('/late', async (_req: Any, res: Any) => {
          await tick();
          res.status(500).send();
        });
        app.get('/buffer', (_req: Any, res: Any) => res.send(Buffer.from('bytes')));
        app.get('/nothing', (_req: Any, res: Any) => res.end());
      }),
      async (c) => [await c.exchange(req('GET', '/late')), await c.exchange(req('GET', '/buffer')), await c.exchange(req('GET', '/nothing'))],
    );
  });
});

describe.each(KOA)('%s: framework ways of ending (row 2)', (name) => {
  test("ctx.body = '' / null / Buffer after an await", async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use(async (ctx: Any) => {
            await tick();
            if (ctx.path === '/empty') ctx.body = '';
            else if (ctx.path === '/null') ctx.body = null;
            else ctx.body = Buffer.from('bytes');
          }),
      }),
      async (c) => [await c.exchange(req('GET', '/empty')), await c.exchange(req('GET', '/null')), await c.exchange(req('GET', '/buffer'))],
    );
  });
});

describe.each(FASTIFY)('%s: framework ways of ending (row 2)', (name) => {
  test('reply.send() empty, code(500).send() after an await, send(Buffer)', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) => {
          fastify.get('/empty', async (_q: Any, reply: Any) => reply.send());
          fastify.get('/late', async (_q: Any, reply: Any) => {
            await tick();
            return reply.code(500).send();
          });
          fastify.get('/buffer', async () => Buffer.from('bytes'));
        },
      }),
      async (c) => [await c.exchange(req('GET', '/empty')), await c.exchange(req('GET', '/late')), await c.exchange(req('GET', '/buffer'))],
    );
  });
});

// ---- row 3: SSE ----------------------------------------------------------------------------

const EVENTS = ['data: one\n\n', 'data: two\n\n'];

/** The head arrives before the app writes any event; then each event before the next. */
async function readSse(c: Ctx, path = '/events', headers: Record<string, string> = {}) {
  const client = await c.connect();
  await client.send(req('GET', path, headers));
  await c.hooks.wait('flushed');
  await expect.poll(() => client.raw.pending.includes('\r\n\r\n'), POLL).toBe(true);
  const head = client.raw.pending.toString('latin1');
  c.hooks.signal('head-seen');
  for (let i = 0; i < EVENTS.length; i++) {
    await c.hooks.wait(`wrote-${i}`);
    await expect.poll(() => client.raw.pending.includes(EVENTS[i]!), POLL).toBe(true);
    c.hooks.signal(`next-${i}`);
  }
  const response = await client.read();
  return { headOnly: head.endsWith('\r\n\r\n'), response, connection: await client.probe() };
}

async function sendEvents(write: (event: string) => void, hooks: Hooks): Promise<void> {
  hooks.signal('flushed');
  await hooks.gate('head-seen');
  for (let i = 0; i < EVENTS.length; i++) {
    write(EVENTS[i]!);
    hooks.signal(`wrote-${i}`);
    await hooks.gate(`next-${i}`);
  }
}

describe.each(ALL)('%s: server-sent events (row 3)', (name) => {
  test('flushHeaders() delivers the head before any event; events arrive one by one', async () => {
    const d = await differential(
      appFor(name, {
        express: (app, hooks) =>
          app.get('/events', async (_req: Any, res: Any) => {
            res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
            res.flushHeaders();
            await sendEvents((e) => res.write(e), hooks);
            res.end();
          }),
        koa: (app, hooks) =>
          app.use((ctx: Any) => {
            const body = new PassThrough();
            ctx.set('Cache-Control', 'no-cache');
            ctx.type = 'text/event-stream';
            ctx.status = 200;
            ctx.body = body;
            ctx.flushHeaders();
            void sendEvents((e) => body.write(e), hooks).then(() => body.end());
          }),
        fastify: (fastify, hooks) =>
          fastify.get('/events', (_request: Any, reply: Any) => {
            reply.hijack();
            reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
            reply.raw.flushHeaders();
            void sendEvents((e) => reply.raw.write(e), hooks).then(() => reply.raw.end());
          }),
      }),
      (c) => readSse(c),
    );
    expect(d.node.result.headOnly).toBe(true);
  });
});

describe.each(EXPRESS)('%s: SSE through compression (row 3)', (name) => {
  test('res.flush() pushes each compressed event out', async () => {
    await differential(
      expressApp(name, (app, hooks) => {
        app.use(compression());
        app.get('/events', async (_req: Any, res: Any) => {
          res.setHeader('Content-Type', 'text/event-stream');
          res.flushHeaders();
          hooks.signal('flushed');
          await hooks.gate('head-seen');
          res.write(EVENTS[0]);
          res.flush();
          hooks.signal('wrote-0');
          await hooks.gate('next-0');
          res.end();
        });
      }),
      async (c) => {
        const client = await c.connect();
        await client.send(req('GET', '/events', { 'Accept-Encoding': 'gzip' }));
        await c.hooks.wait('flushed');
        await expect.poll(() => client.raw.pending.includes('\r\n\r\n'), POLL).toBe(true);
        c.hooks.signal('head-seen');
        await c.hooks.wait('wrote-0');
        const inflated = () => {
          try {
            return gunzipSync(partialBody(client.raw.pending), { finishFlush: zlib.Z_SYNC_FLUSH }).toString();
          } catch {
            return '';
          }
        };
        await expect.poll(inflated, POLL).toBe(EVENTS[0]);
        c.hooks.signal('next-0');
        const response = await client.read();
        return { response, connection: await client.probe() };
      },
    );
  });
});

// ---- row 4: response backpressure --------------------------------------------------------------

const BIG = 12 * 1024 * 1024;
const SLICE = 64 * 1024;

/** Incompressible, deterministic bytes (xorshift32). */
function noise(size: number, seed = 12345): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out;
}

const DATA = noise(BIG);

function* slices(size = BIG): Generator<Buffer> {
  for (let offset = 0; offset < size; offset += SLICE) yield DATA.subarray(offset, offset + SLICE);
}

/** Record (once) that `res.write()` returned false: the app sees backpressure. */
function watchWrites(res: Any, hooks: Hooks): void {
  const write = res.write;
  res.write = function (...args: unknown[]) {
    const room = write.apply(this, args);
    if (typeof room !== 'boolean') hooks.values.nonBoolean = typeof room;
    if (room === false) {
      hooks.values.sawFalse = true;
      hooks.signal('backpressure');
    }
    return room;
  };
}

/** A client that does not read until the app saw backpressure, then reads everything. */
async function slowReader(c: Ctx, path: string, headers: Record<string, string> = {}) {
  const client = await c.connect();
  client.raw.socket.pause();
  await client.send(req('GET', path, { Connection: 'close', ...headers }));
  await c.hooks.wait('backpressure', 5000);
  client.raw.socket.resume();
  return { response: await client.readToClose({ timeout: 10_000 }) };
}

describe.each(EXPRESS)('%s: response backpressure (row 4)', (name) => {
  test("res.write() loop: write() returns false, 'drain' comes, every byte arrives", async () => {
    const d = await differential(
      expressApp(name, (app, hooks) =>
        app.get('/big', async (_req: Any, res: Any) => {
          watchWrites(res, hooks);
          res.setHeader('Content-Type', 'application/octet-stream');
          for (const slice of slices()) if (!res.write(slice)) await once(res, 'drain');
          res.end();
        }),
      ),
      (c) => slowReader(c, '/big'),
    );
    expect(d.node.hooks.values.sawFalse).toBe(true);
    expect(d.node.traces[0]!.events.some((e) => e.startsWith('res:drain'))).toBe(true);
  });

  test("stream.pipe(res) through compression: zlib waits for 'drain'", async () => {
    const d = await differential(
      expressApp(name, (app, hooks) => {
        app.use((_req: Any, res: Any, next: Any) => {
          watchWrites(res, hooks);
          next();
        });
        app.use(compression({ level: 1 }));
        app.get('/big', (_req: Any, res: Any) => {
          res.setHeader('Content-Type', 'application/octet-stream');
          Readable.from(slices(6 * 1024 * 1024)).pipe(res);
        });
      }),
      (c) => slowReader(c, '/big', { 'Accept-Encoding': 'gzip' }),
    );
    expect(d.node.result.response.headers).toContain('content-encoding: gzip');
  });
});

describe.each(KOA)('%s: response backpressure (row 4)', (name) => {
  test('a Readable body (Koa 2 pipe, Koa 3 pipeline) waits for the client', async () => {
    await differential(
      appFor(name, {
        koa: (app, hooks) =>
          app.use((ctx: Any) => {
            watchWrites(ctx.res, hooks);
            ctx.type = 'application/octet-stream';
            ctx.body = Readable.from(slices());
          }),
      }),
      (c) => slowReader(c, '/big'),
    );
  });
});

describe.each(FASTIFY)('%s: response backpressure (row 4)', (name) => {
  test.each([
    ['a Readable', () => Readable.from(slices())],
    ['a web ReadableStream', () => Readable.toWeb(Readable.from(slices()))],
  ])('reply.send(%s) waits for the client', async (_kind, make) => {
    await differential(
      appFor(name, {
        fastify: (fastify, hooks) => {
          fastify.addHook('onRequest', async (_request: Any, reply: Any) => watchWrites(reply.raw, hooks));
          fastify.get('/big', (_request: Any, reply: Any) => {
            reply.type('application/octet-stream').send(make());
          });
        },
      }),
      (c) => slowReader(c, '/big'),
    );
  });
});
