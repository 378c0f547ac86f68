/**
 * §7.7 rows 10 (normal completion: 'finish', then one 'close' on a later tick, callbacks fire, no
 * double events), 31 (the stream contract: booleans, write callbacks, socket identity, defaults)
 * and 33 (diagnostics_channel; OpenTelemetry itself is not installed), and a few of §7.8's
 * middleware matrix (morgan, helmet, cors).
 */

import diagnostics from 'node:diagnostics_channel';
import { finished, PassThrough, Readable } from 'node:stream';
import cors from 'cors';
import helmet from 'helmet';
import morgan from 'morgan';
import onFinished from 'on-finished';
import { afterEach, describe, expect, test } from 'vitest';
import { differential, type Hooks, INTENTIONAL, req } from './harness.js';
import { ALL, type Any, appFor, EXPRESS, expressApp, rawApp } from './frameworks.js';

/** Userland's completion hooks, and whether 'close' came within the 'finish' dispatch. */
function completion(req: Any, res: Any, hooks: Hooks): void {
  let inFinish = false;
  res.on('finish', () => {
    inFinish = true;
    hooks.note(res, 'finish listener', { writableFinished: res.writableFinished });
    hooks.locals.socketInFinish = res.socket !== null;
    inFinish = false;
  });
  res.on('close', () => hooks.note(res, 'close listener', { duringFinish: inFinish, destroyed: res.destroyed }));
  finished(res, (error: Any) => {
    hooks.note(res, 'stream.finished(res)', error?.code ?? null);
    hooks.signal('finished');
  });
  onFinished(res, (error: Any) => {
    hooks.note(res, 'on-finished', error?.code ?? null);
    hooks.signal('on-finished');
  });
  void req;
}

describe.each(ALL)('%s: normal completion (row 10)', (name) => {
  test.each([
    ['a string body', 'string'],
    ['a stream body that ends', 'stream'],
  ])('%s: finish, then one close; finished() and on-finished callbacks', async (_title, kind) => {
    const body = (res: Any, hooks: Hooks) => {
      const stream = new PassThrough();
      stream.on('close', () => hooks.note(res, 'body stream closed'));
      setImmediate(() => stream.end('streamed body'));
      return stream;
    };
    const d = await differential(
      appFor(name, {
        express: (app, hooks) =>
          app.get('/', (req: Any, res: Any) => {
            completion(req, res, hooks);
            if (kind === 'string') res.send('string body');
            else body(res, hooks).pipe(res);
          }),
        koa: (app, hooks) =>
          app.use((ctx: Any) => {
            completion(ctx.req, ctx.res, hooks);
            ctx.type = 'text/plain';
            ctx.body = kind === 'string' ? 'string body' : body(ctx.res, hooks);
          }),
        fastify: (fastify, hooks) =>
          fastify.get('/', (request: Any, reply: Any) => {
            completion(request.raw, reply.raw, hooks);
            return reply.type('text/plain').send(kind === 'string' ? 'string body' : body(reply.raw, hooks));
          }),
      }),
      async (c) => {
        const result = await c.exchange(req('GET', '/'));
        await c.hooks.wait('finished');
        await c.hooks.wait('on-finished');
        return result;
      },
    );
    // As node:http's resOnFinish does, the bridge lets go of the socket before the app's own
    // 'finish' listeners run.
    expect(d.node.hooks.locals.socketInFinish).toBe(false);
    expect(d.rocket.hooks.locals.socketInFinish).toBe(false);
  });
});

describe.each(ALL)('%s: the stream contract (row 31)', (name) => {
  test("booleans from write()/end(), write callbacks (also for ''), socket identity, defaults", async () => {
    const d = await differential(
      rawApp(name, async (req, res, hooks) => {
        hooks.locals.completeAtEntry = req.complete;
        hooks.values.statusCodeBeforeWriteHead = res.statusCode;
        hooks.values.resReq = res.req === req;
        hooks.values.sameSocket = req.socket === res.socket && req.socket !== null;
        hooks.values.connectionAlias = req.connection === req.socket;
        hooks.values.httpVersion = [req.httpVersion, req.httpVersionMajor, req.httpVersionMinor];
        hooks.values.socketReadable = req.socket.readable;
        hooks.values.socketWritable = req.socket.writable;
        hooks.values.remoteAddressIsString = typeof req.socket.remoteAddress === 'string';
        hooks.values.headersSentBefore = res.headersSent;
        res.setHeader('Content-Type', 'text/plain');
        const callbacks: string[] = [];
        const done = new Promise<void>((resolve) => {
          hooks.values.writeEmpty = typeof res.write('', () => callbacks.push('empty'));
          hooks.values.writeData = typeof res.write('data', () => callbacks.push('data'));
          hooks.values.headersSentAfterWrite = res.headersSent;
          const ended = res.end('end', () => {
            callbacks.push('end');
            resolve();
          });
          hooks.values.endReturnsRes = ended === res;
          hooks.values.socketDuringHandling = res.socket !== null;
        });
        await done;
        hooks.values.callbacks = callbacks;
      }),
      (c) => c.exchange(req('GET', '/')),
    );
    // INTENTIONAL: see INTENTIONAL.completeUpFront.
    expect(INTENTIONAL.completeUpFront).toBeTruthy();
    expect(d.node.hooks.locals.completeAtEntry).toBe(false);
    expect(d.rocket.hooks.locals.completeAtEntry).toBe(true);
  });

  test('a POST: req.complete is false until the body was read, true after', async () => {
    await differential(
      rawApp(name, async (req, res, hooks) => {
        hooks.values.completeAtEntry = req.complete;
        hooks.values.readable = req.readable;
        const body = Buffer.concat(await req.toArray()).toString();
        hooks.values.completeAfter = req.complete;
        hooks.values.readableAfter = req.readable;
        res.end(body);
      }),
      (c) => c.exchange(req('POST', '/', { 'Content-Type': 'application/octet-stream', 'Content-Length': 5 }, 'hello')),
    );
  });

  test('Readable.from piped into res: pipe() honours write() results', async () => {
    await differential(
      rawApp(name, (_q, res) => {
        res.setHeader('Content-Type', 'text/plain');
        Readable.from(['a', 'b', 'c']).pipe(res);
      }),
      (c) => c.exchange(req('GET', '/')),
    );
  });
});

// ---- row 33: diagnostics_channel -------------------------------------------------------------

const seen: { channel: string; server: unknown; request: unknown; response: unknown }[] = [];
const record = (channel: string) => (message: Any) => seen.push({ channel, server: message.server, request: message.request, response: message.response });
const onStart = record('http.server.request.start');
const onFinish = record('http.server.response.finish');
afterEach(() => {
  diagnostics.unsubscribe('http.server.request.start', onStart);
  diagnostics.unsubscribe('http.server.response.finish', onFinish);
  seen.length = 0;
});

describe.each(ALL)('%s: diagnostics_channel (row 33)', (name) => {
  test('http.server.request.start and response.finish are published once per request, with its objects', async () => {
    diagnostics.subscribe('http.server.request.start', onStart);
    diagnostics.subscribe('http.server.response.finish', onFinish);
    await differential(
      rawApp(name, (_q, res) => res.end('observed')),
      async (c) => {
        const result = await c.exchange(req('GET', '/'));
        await c.settle();
        const trace = c.hooks.recorder.requests[0]!;
        const mine = seen.filter((m) => m.server === c.server && m.request !== undefined && (m.request as Any).url !== '/__differential_probe');
        return {
          result,
          published: mine.map((m) => ({ channel: m.channel, sameRequest: m.request === trace.req, sameResponse: m.response === trace.res })),
        };
      },
    );
  });
});

// ---- §7.8 middleware matrix: logging and security headers ----------------------------------------

describe.each(EXPRESS)('%s: morgan, helmet, cors (§7.8 middleware matrix)', (name) => {
  test('the same log line, the same security and CORS headers, the same preflight', async () => {
    await differential(
      expressApp(name, (app, hooks) => {
        const log: string[] = [];
        hooks.values.log = log;
        app.use(morgan(':method :url :status :res[content-length] :req[origin]', { stream: { write: (line: string) => log.push(line.trim()) } }));
        app.use(helmet());
        app.use(cors({ origin: 'https://allowed.example', credentials: true }));
        app.get('/', (_q: Any, res: Any) => res.json({ ok: true }));
      }),
      async (c) => {
        const get = await c.exchange(req('GET', '/', { Origin: 'https://allowed.example' }));
        const preflight = await c.exchange(req('OPTIONS', '/', { Origin: 'https://allowed.example', 'Access-Control-Request-Method': 'PUT' }));
        await c.settle();
        return { get, preflight };
      },
    );
  });
});
