/**
 * Request bodies: §7.7 rows 5 (request backpressure, pause/resume), 13 (trailers both ways),
 * 14 (Expect: 100-continue), 15 (body limits, unread bodies, the next request on the connection),
 * 16 (multipart) and 25 (bodies without Content-Length, body-less POSTs).
 */

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bodyParser from 'body-parser';
import { koaBody } from 'koa-body';
import multer from 'multer';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Ctx, differential, type Hooks, POLL, req } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, FASTIFY, KOA, nodeApp, rawApp } from './frameworks.js';

let uploads: string;
beforeAll(() => {
  uploads = mkdtempSync(join(tmpdir(), 'differential-uploads-'));
});
afterAll(() => rmSync(uploads, { recursive: true, force: true }));

/** Read a stream to the end: its length and a short hash. */
async function digest(stream: AsyncIterable<Buffer>, onChunk?: (total: number) => Promise<void> | void) {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    length += chunk.length;
    await onChunk?.(length);
  }
  return { length, sha256: hash.digest('hex').slice(0, 16) };
}

function sha(data: Buffer | string) {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

// ---- row 5: request backpressure ---------------------------------------------------------------

const UPLOAD = Buffer.alloc(16 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz');

/**
 * The body handler of each framework as a raw stream: `consume(stream, hooks)` produces the JSON
 * answer.
 */
function streamApp(name: Any, consume: (stream: Any, hooks: Hooks) => Promise<unknown>) {
  return appFor(name, {
    express: (app, hooks) => app.post('/upload', async (req: Any, res: Any) => res.json(await consume(req, hooks))),
    koa: (app, hooks) =>
      app.use(async (ctx: Any) => {
        ctx.body = await consume(ctx.req, hooks);
      }),
    fastify: (fastify, hooks) => {
      fastify.addContentTypeParser('application/octet-stream', (_q: Any, payload: Any, done: Any) => done(null, payload));
      fastify.post('/upload', async (request: Any) => consume(request.body, hooks));
    },
  });
}

/** Send a 16 MiB body; once the server stopped reading (the client's buffer stays full), let the app go on. */
async function sendWhileBlocked(c: Ctx, waitFirst?: string) {
  const client = await c.connect();
  void client.send(req('POST', '/upload', { 'Content-Type': 'application/octet-stream', 'Content-Length': UPLOAD.length }));
  void client.send(UPLOAD);
  if (waitFirst !== undefined) await c.hooks.wait(waitFirst);
  // The kernel buffers a few MiB on each side; beyond that only a server that stops reading leaves
  // the rest in the client's own buffer.
  await expect.poll(() => client.raw.socket.writableLength, { ...POLL, timeout: 5000 }).toBeGreaterThan(4 * 1024 * 1024);
  c.hooks.signal('go');
  const response = await client.read({ timeout: 10_000 });
  return { response, connection: await client.probe() };
}

describe.each(ALL)('%s: request backpressure (row 5)', (name) => {
  test('a handler that does not read yet: the server stops reading the connection', async () => {
    await differential(
      streamApp(name, async (stream, hooks) => {
        await hooks.gate('go');
        return digest(stream);
      }),
      (c) => sendWhileBlocked(c),
    );
  });

  test('req.pause() after 1 MiB holds the rest back; resume() gets it', async () => {
    await differential(
      streamApp(name, async (stream, hooks) => {
        let paused = false;
        return digest(stream, async (total) => {
          if (!paused && total >= 1024 * 1024) {
            paused = true;
            stream.pause();
            hooks.signal('paused');
            await hooks.gate('go');
            stream.resume();
          }
        });
      }),
      (c) => sendWhileBlocked(c, 'paused'),
    );
  });
});

// ---- row 13: trailers ------------------------------------------------------------------------

const TRAILERS: [string, (req: Any, res: Any, hooks: Hooks) => unknown][] = [
  ['addTrailers() with a Trailer header, chunked', (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
    res.write('body');
    res.addTrailers({ 'X-Checksum': 'abc123', 'X-Other': 'two' });
    res.end();
  }],
  ['addTrailers() with the body in end()', (_q, res) => {
    res.setHeader('Trailer', 'X-Checksum');
    res.addTrailers([['X-Checksum', 'abc123']]);
    res.end('body');
  }],
  ['Trailer with Content-Length throws as node:http does', (_q, res, hooks) => {
    try {
      res.writeHead(200, { 'Content-Length': 4, Trailer: 'X-Checksum' });
      res.end('body');
      hooks.values.threw = null;
    } catch (error: Any) {
      hooks.values.threw = error.code;
      res.removeHeader('Trailer');
      res.removeHeader('Content-Length');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(error.code);
    }
  }],
];

describe.each(ALL)('%s: response trailers (row 13)', (name) => {
  test.each(TRAILERS)('%s', async (_title, handler) => {
    await differential(rawApp(name, handler), (c) => c.exchange(req('GET', '/')));
  });

  test.each(TRAILERS)('HTTP/1.0 client asking for chunked: %s (INTENTIONAL.http10)', async (_title, handler) => {
    await differential(rawApp(name, handler), (c) => c.exchange(req('GET', '/', { TE: 'chunked' }, '', '1.0'), { probe: false }), { allow: ['http10'] });
  });
});

describe.each(FASTIFY)('%s: reply.trailer (row 13)', (name) => {
  test('trailers computed from the payload', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) =>
          fastify.get('/', (_q: Any, reply: Any) => {
            reply.trailer('x-checksum', (_reply: Any, payload: Any, done: Any) => done(null, sha(String(payload))));
            return reply.type('text/plain').send('trailed body');
          }),
      }),
      (c) => c.exchange(req('GET', '/')),
    );
  });
});

const CHUNKED_WITH_TRAILERS =
  'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Req-Checksum\r\n\r\n' +
  '4\r\nbody\r\n6\r\n\r\nmore\r\n0\r\nX-Req-Checksum: r1\r\nX-Second: two\r\n\r\n';

describe.each(ALL)('%s: request trailers (row 13)', (name) => {
  test('req.trailers and req.rawTrailers after the body', async () => {
    const answer = async (req: Any) => ({ body: Buffer.concat(await req.toArray()).toString(), trailers: req.trailers, rawTrailers: req.rawTrailers, complete: req.complete });
    await differential(
      appFor(name, {
        express: (app) => app.post('/echo', async (req: Any, res: Any) => res.json(await answer(req))),
        koa: (app) =>
          app.use(async (ctx: Any) => {
            ctx.body = await answer(ctx.req);
          }),
        fastify: (fastify) => {
          fastify.removeAllContentTypeParsers();
          fastify.addContentTypeParser('*', (_q: Any, payload: Any, done: Any) => done(null, payload));
          fastify.post('/echo', async (request: Any) => answer(request.raw));
        },
      }),
      (c) => c.exchange(CHUNKED_WITH_TRAILERS),
    );
  });
});

// ---- row 14: Expect: 100-continue --------------------------------------------------------------

/** Send the head; wait for the interim 100 or the final response; send the body only after a 100. */
async function expectContinue(c: Ctx, path: string, body: string | Buffer, headers: Record<string, string | number> = {}) {
  const client = await c.connect();
  await client.send(req('POST', path, { Expect: '100-continue', 'Content-Length': Buffer.byteLength(body), ...headers }));
  const first = await client.readInterimOrFinal();
  let interim: string | null = null;
  let response;
  if ('interim' in first) {
    interim = first.interim;
    await client.send(body);
    response = await client.read();
  } else {
    response = first.final;
  }
  return { response: { ...response, interim: interim === null ? response.interim : [interim, ...response.interim] }, connection: await client.probe() };
}

describe.each(ALL)('%s: Expect: 100-continue (row 14)', (name) => {
  test('the app reads the body: one 100 Continue, then the response', async () => {
    await differential(
      appFor(name, {
        express: (app) => app.post('/json', bodyParser.json(), (req: Any, res: Any) => res.json(req.body)),
        koa: (app) =>
          app.use(koaBody()).use((ctx: Any) => {
            ctx.body = ctx.request.body;
          }),
        fastify: (fastify) => fastify.post('/json', async (request: Any) => request.body),
      }),
      (c) => expectContinue(c, '/json', '{"a":[1,2,3]}', { 'Content-Type': 'application/json' }),
    );
  });

  test('a large body after the 100', async () => {
    const big = Buffer.alloc(1024 * 1024, 'z');
    await differential(
      streamApp(name, async (stream) => digest(stream)),
      (c) => expectContinue(c, '/upload', big, { 'Content-Type': 'application/octet-stream' }),
    );
  });

  test('the app answers 401 without reading (INTENTIONAL.lazyContinue)', async () => {
    await differential(
      appFor(name, {
        express: (app) => app.post('/json', (_q: Any, res: Any) => res.status(401).send('no')),
        koa: (app) =>
          app.use((ctx: Any) => {
            ctx.status = 401;
            ctx.body = 'no';
          }),
        fastify: (fastify) =>
          fastify.addHook('onRequest', async (_q: Any, reply: Any) => {
            reply.code(401).send('no');
            return reply;
          }),
      }),
      (c) => expectContinue(c, '/json', '{"a":1}', { 'Content-Type': 'application/json' }),
      { allow: ['lazyContinue'] },
    );
  });

  test('Expect: something-else is refused with 417 (INTENTIONAL.coreRefusal)', async () => {
    await differential(
      rawApp(name, (_q, res) => res.end('should not run')),
      async (c) => {
        const client = await c.connect();
        await client.send(req('POST', '/', { Expect: 'something-else', 'Content-Length': 2 }, 'hi'));
        return { response: await client.read(), connection: 'not compared' };
      },
      { allow: ['coreRefusal'] },
    );
  });
});

describe("a 'checkContinue' listener (row 14)", () => {
  test('the server hands the request to checkContinue; writeContinue() sends the 100', async () => {
    await differential(
      nodeApp(
        () => (_req, res) => res.end('request, not checkContinue'),
        (server, hooks) =>
          server.on('checkContinue', async (req: Any, res: Any) => {
            hooks.recorder.attach(req, res);
            hooks.note(req, 'checkContinue', req.headers.expect);
            if (req.url === '/reject') {
              res.writeHead(413).end('too big');
              return;
            }
            res.writeContinue();
            res.end(`got ${Buffer.concat(await req.toArray()).toString()}`);
          }),
      ),
      async (c) => ({ accepted: await expectContinue(c, '/', 'abc'), rejected: await expectContinue(c, '/reject', 'abc') }),
      { allow: ['lazyContinue'] },
    );
  });

  test.each(EXPRESS)('%s app behind a checkContinue listener that accepts', async (name) => {
    await differential(
      (hooks) => {
        const factory = expressApp(name, (app) => app.post('/json', bodyParser.json(), (req: Any, res: Any) => res.json(req.body)));
        const def = factory(hooks) as Any;
        def.configure = (server: Any) =>
          server.on('checkContinue', (req: Any, res: Any) => {
            res.writeContinue();
            server.emit('request', req, res);
          });
        return def;
      },
      (c) => expectContinue(c, '/json', '{"b":2}', { 'Content-Type': 'application/json' }),
    );
  });
});

// ---- row 15: limits and unread bodies -----------------------------------------------------------

const BIG_JSON = JSON.stringify({ data: 'x'.repeat(10_000) });

/** An over-limit body with a GET pipelined behind it, then the probe. */
async function overLimit(c: Ctx, path: string) {
  const client = await c.connect();
  await client.send(req('POST', path, { 'Content-Type': 'application/json', 'Content-Length': BIG_JSON.length }, BIG_JSON) + req('GET', '/after'));
  const first = await client.read();
  // Fastify says `Connection: close` on its 413; Express and Koa keep the connection.
  const second = await client.readOutcome();
  return { first, second, connection: await client.probe() };
}

describe.each(EXPRESS)('%s: body limits (row 15)', (name) => {
  test('body-parser limit → 413; the pipelined request after it parses correctly', async () => {
    await differential(
      expressApp(name, (app) => {
        app.post('/json', bodyParser.json({ limit: '1kb' }), (req: Any, res: Any) => res.json(req.body));
        app.get('/after', (_q: Any, res: Any) => res.send('after'));
      }),
      (c) => overLimit(c, '/json'),
    );
  });
});

describe.each(KOA)('%s: body limits (row 15)', (name) => {
  test('koa-body jsonLimit → 413; the pipelined request after it parses correctly', async () => {
    await differential(
      appFor(name, {
        koa: (app) => {
          app.use(async (ctx: Any, next: Any) => {
            if (ctx.path === '/after') ctx.body = 'after';
            else await next();
          });
          app.use(koaBody({ jsonLimit: '1kb' })).use((ctx: Any) => {
            ctx.body = ctx.request.body;
          });
        },
      }),
      (c) => overLimit(c, '/json'),
    );
  });
});

describe.each(FASTIFY)('%s: body limits (row 15)', (name) => {
  test('bodyLimit → 413 with Connection: close; the request pipelined behind it (INTENTIONAL.closeStopsPipeline)', async () => {
    await differential(
      appFor(name, {
        fastify: (fastify) => {
          fastify.post('/json', { bodyLimit: 1024 }, async (request: Any) => request.body);
          fastify.get('/after', async () => 'after');
        },
      }),
      (c) => overLimit(c, '/json'),
      { allow: ['closeStopsPipeline'] },
    );
  });
});

describe.each(ALL)('%s: a response before the body was read (row 15)', (name) => {
  const early = () => rawApp(name, (_q, res) => res.end('early'));
  const post = (size: number) => req('POST', '/', { 'Content-Type': 'application/octet-stream', 'Content-Length': size }) + 'y'.repeat(size);

  test('100 KiB unread: discarded, the connection carries the next request', async () => {
    await differential(early(), async (c) => {
      const client = await c.connect();
      await client.send(post(100 * 1024) + req('GET', '/second'));
      return { first: await client.read(), second: await client.read(), connection: await client.probe() };
    });
  });

  test('1 MiB unread (INTENTIONAL.drainLimit)', async () => {
    await differential(early(), (c) => c.exchange(post(1024 * 1024)), { allow: ['drainLimit'] });
  });
});

// ---- row 16: multipart ---------------------------------------------------------------------------

const BOUNDARY = '----differential7MA4YWxk';

function multipart(parts: { name: string; filename?: string; type?: string; data: string | Buffer }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += '\r\n';
    if (part.type !== undefined) head += `Content-Type: ${part.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const FILE = Buffer.alloc(300 * 1024, 'multipart file data ');
const FORM = multipart([
  ...Array.from({ length: 50 }, (_, i) => ({ name: `field${i}`, data: `value ${i}` })),
  { name: 'doc', filename: 'résumé ✓.txt', type: 'text/plain', data: FILE },
  { name: 'small', filename: 'small.bin', type: 'application/octet-stream', data: Buffer.from([0, 1, 2, 3]) },
]);

function postForm(body: Buffer) {
  return Buffer.concat([Buffer.from(req('POST', '/upload', { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': body.length })), body]);
}

describe.each(EXPRESS)('%s: multipart with multer (row 16)', (name) => {
  test.each([
    ['memory storage', () => multer({ storage: multer.memoryStorage() })],
    ['disk storage', () => multer({ dest: uploads })],
  ])('%s: 50 fields, a file larger than the stream high-water mark, a non-ASCII filename', async (_title, make) => {
    await differential(
      expressApp(name, (app) =>
        app.post('/upload', make().any(), (req: Any, res: Any) =>
          res.json({
            fields: Object.keys(req.body).length,
            field7: req.body.field7,
            files: req.files.map((f: Any) => ({ field: f.fieldname, name: f.originalname, type: f.mimetype, size: f.size })),
          }),
        ),
      ),
      (c) => c.exchange(postForm(FORM)),
    );
  });

  test('fileSize limit → the error handler; the connection stays usable', async () => {
    await differential(
      expressApp(name, (app) => {
        app.post('/upload', multer({ limits: { fileSize: 64 * 1024 } }).any(), (_q: Any, res: Any) => res.send('accepted'));
        app.use((error: Any, _q: Any, res: Any, _next: Any) => res.status(413).json({ code: error.code, field: error.field }));
      }),
      (c) => c.exchange(postForm(FORM)),
    );
  });
});

describe.each(KOA)('%s: multipart with koa-body/formidable (row 16)', (name) => {
  test('50 fields, a file larger than the high-water mark, a non-ASCII filename', async () => {
    await differential(
      appFor(name, {
        koa: (app) =>
          app.use(koaBody({ multipart: true, formidable: { uploadDir: uploads } })).use((ctx: Any) => {
            const files = Object.values(ctx.request.files ?? {}).flat() as Any[];
            ctx.body = {
              fields: Object.keys(ctx.request.body).length,
              field7: ctx.request.body.field7,
              files: files.map((f) => ({ name: f.originalFilename, type: f.mimetype, size: f.size })).sort((a, b) => a.size - b.size),
            };
          }),
      }),
      (c) => c.exchange(postForm(FORM)),
    );
  });
});

describe('fastify5: multipart with @fastify/multipart (row 16)', () => {
  test('50 fields, a file larger than the high-water mark, a non-ASCII filename; a fileSize limit', async () => {
    const multipartPlugin = (await import('@fastify/multipart')).default;
    await differential(
      appFor('fastify5', {
        fastify: async (fastify) => {
          await fastify.register(multipartPlugin, { limits: { fileSize: 200 * 1024 } });
          fastify.post('/upload', async (request: Any) => {
            const out: Any[] = [];
            let fields = 0;
            for await (const part of request.parts()) {
              if (part.type === 'file') {
                const size = (await part.toBuffer()).length;
                out.push({ field: part.fieldname, name: part.filename, type: part.mimetype, size });
              } else fields++;
            }
            return { fields, files: out };
          });
        },
      }),
      async (c) => ({
        limited: await c.exchange(postForm(FORM)),
        fits: await c.exchange(postForm(multipart([{ name: 'a', data: '1' }, { name: 'f', filename: 'ü.txt', data: 'small' }]))),
      }),
      { allow: ['bodyTiming'] },
    );
  });
});

// ---- row 25: bodies without Content-Length, body-less POSTs -------------------------------------

const CHUNKED_JSON =
  'POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' + '5\r\n{"a":\r\n4\r\n[1,2\r\n2\r\n]}\r\n0\r\n\r\n';

describe.each(ALL)('%s: bodies without Content-Length (row 25)', (name) => {
  test('a chunked JSON body is parsed; a body-less POST is skipped cleanly; Content-Length: 0', async () => {
    const seen = (req: Any, body: unknown) => ({ body: body ?? null, te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null });
    await differential(
      appFor(name, {
        express: (app) => app.post('/json', bodyParser.json(), (req: Any, res: Any) => res.json(seen(req, req.body))),
        koa: (app) =>
          app.use(koaBody()).use((ctx: Any) => {
            ctx.body = seen(ctx.req, ctx.request.body);
          }),
        fastify: (fastify) => fastify.post('/json', async (request: Any) => seen(request.raw, request.body)),
      }),
      async (c) => ({
        chunked: await c.exchange(CHUNKED_JSON),
        noBody: await c.exchange(req('POST', '/json')),
        emptyJson: await c.exchange(req('POST', '/json', { 'Content-Type': 'application/json', 'Content-Length': 0 })),
      }),
    );
  });
});
