/**
 * Express 5 and Express 4 on Rocket: request bodies and cookies — body-parser (json, urlencoded,
 * raw, text, the size limit), cookie-parser (signed and unsigned), express-session (a counter
 * across requests, Set-Cookie lines kept apart).
 */

import bodyParser from 'body-parser';
import cookieParser from 'cookie-parser';
import express from 'express';
import express4 from 'express4';
import session from 'express-session';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { listen } from '@rocketserver/adapter-express';
import { closeServers, cookieHeader, KiB, noise, RawClient, send, served, sha256, text } from './helpers.js';

afterEach(closeServers);

type Express = typeof express;

/** express-session's `req.session` (the package ships no types). */
const sessionOf = (req: unknown) => (req as { session: Record<string, unknown> }).session;
const frameworks: [string, Express][] = [
  ['Express 5', express],
  ['Express 4', express4 as unknown as Express],
];

describe.each(frameworks)('%s', (_name, express) => {
  /** Run `app` on Rocket through the adapter, as `app.listen(0, '127.0.0.1')` would. */
  const start = (app: ReturnType<Express>) => served(listen(app, 0, '127.0.0.1'));

  /** An error handler that reports what body-parser or another middleware rejected. */
  const reportErrors = (err: { status?: number; type?: string; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(err.status ?? 500).json({ type: err.type, message: err.message });
  };

  describe('body-parser', () => {
    test('json: a JSON body arrives parsed', async () => {
      const app = express();
      app.post('/echo', express.json(), (req, res) => res.json({ got: req.body, type: typeof req.body }));
      const { server } = await start(app);
      const payload = { name: 'Zoë', list: [1, 2, 3], nested: { ok: true } };
      const response = await request(server).post('/echo').send(payload).expect(200);
      expect(response.body).toEqual({ got: payload, type: 'object' });
    });

    test('json: a 300 KiB JSON body (many socket reads) arrives whole', async () => {
      const app = express();
      app.post('/echo', express.json({ limit: '1mb' }), (req, res) => {
        const { items } = req.body as { items: unknown[] };
        res.json({ n: items.length, last: items.at(-1) });
      });
      const { url } = await start(app);
      const items = Array.from({ length: 10_000 }, (_, i) => ({ i, s: `item-${i}-${'x'.repeat(10)}` }));
      const body = JSON.stringify({ items });
      expect(body.length).toBeGreaterThan(300 * KiB);
      const reply = await send(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ n: 10_000, last: items.at(-1) });
    });

    test('json: a chunked body (no Content-Length) is parsed too', async () => {
      const app = express();
      app.post('/echo', express.json(), (req, res) => res.json(req.body));
      const { url } = await start(app);
      const reply = await send(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chunked: 'yes', n: 42 }), chunked: true });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ chunked: 'yes', n: 42 });
    });

    test('Expect: 100-continue (as curl sends for larger bodies): 100, then the parsed body', async () => {
      const app = express();
      app.post('/echo', express.json(), (req, res) => res.json({ keys: Object.keys(req.body as object).length }));
      const { port } = await start(app);
      const body = JSON.stringify(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i])));
      const client = await RawClient.connect(port);
      try {
        await client.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
        const interim = await client.readResponse();
        expect(interim.status).toBe(100);
        await client.write(body);
        const final = await client.readResponse();
        expect(final.status).toBe(200);
        expect(JSON.parse(final.body.toString())).toEqual({ keys: 200 });
      } finally {
        client.destroy();
      }
    });

    test('urlencoded: a form arrives parsed (+ and %XX decoded)', async () => {
      const app = express();
      app.post('/form', express.urlencoded({ extended: false }), (req, res) => res.json(req.body));
      const { server } = await start(app);
      const response = await request(server)
        .post('/form')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('a=1&b=x+y&c=%C3%A9t%C3%A9&d=')
        .expect(200);
      expect(response.body).toEqual({ a: '1', b: 'x y', c: 'été', d: '' });
    });

    test('raw: 512 KiB of binary arrive as a Buffer, byte for byte', async () => {
      const app = express();
      app.post('/raw', express.raw({ type: 'application/octet-stream', limit: '1mb' }), (req, res) => {
        const body = req.body as unknown as Buffer;
        res.json({ buffer: Buffer.isBuffer(body), length: body.length, sha: sha256(body) });
      });
      const { url } = await start(app);
      const body = noise(512 * KiB, 3);
      const reply = await send(`${url}/raw`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ buffer: true, length: body.length, sha: sha256(body) });
    });

    test('text (the body-parser package itself): a text body arrives as a string', async () => {
      const app = express();
      app.post('/text', bodyParser.text({ type: 'text/*' }), (req, res) => res.type('text/plain').send(`${typeof req.body}:${req.body}`));
      const { server } = await start(app);
      await request(server).post('/text').set('Content-Type', 'text/plain; charset=utf-8').send('héllo wörld').expect(200, 'string:héllo wörld');
    });

    test('a request without a body leaves the parsers alone', async () => {
      const app = express();
      app.use(express.json());
      app.post('/empty', (req, res) => res.json({ body: req.body ?? null }));
      const { url } = await start(app);
      const reply = await send(`${url}/empty`, { method: 'POST' });
      expect(reply.status).toBe(200);
      // Express 5 (body-parser 2) leaves req.body undefined, Express 4 (body-parser 1) sets {}.
      expect([null, {}]).toContainEqual(JSON.parse(reply.text).body);
    });

    test('limit: a body over the limit (Content-Length) is 413, and the connection keeps working', async () => {
      const app = express();
      app.post('/small', express.json({ limit: '1kb' }), (req, res) => res.json(req.body));
      app.get('/after', (_req, res) => res.send('still here'));
      app.use(reportErrors);
      const { port } = await start(app);
      const body = JSON.stringify({ pad: 'x'.repeat(10 * KiB) });
      const client = await RawClient.connect(port);
      try {
        await client.write(`POST /small HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        const rejected = await client.readResponse();
        expect(rejected.status).toBe(413);
        expect(JSON.parse(rejected.body.toString())).toMatchObject({ type: 'entity.too.large' });
        // The unread body was consumed, not parsed as the next request.
        await client.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
        const after = await client.readResponse();
        expect(after.status).toBe(200);
        expect(after.body.toString()).toBe('still here');
      } finally {
        client.destroy();
      }
    });

    test('limit: a 2 MiB body against a 1kb limit is 413 (the parser reads it off first)', async () => {
      const app = express();
      app.post('/small', express.json({ limit: '1kb' }), (req, res) => res.json(req.body));
      app.use(reportErrors);
      const { url } = await start(app);
      const body = JSON.stringify({ pad: 'z'.repeat(2 * 1024 * KiB) });
      const reply = await send(`${url}/small`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(reply.status).toBe(413);
      expect(JSON.parse(reply.text)).toMatchObject({ type: 'entity.too.large' });
    });

    test('limit: a chunked body that grows over the limit is 413', async () => {
      const app = express();
      app.post('/small', express.json({ limit: '1kb' }), (req, res) => res.json(req.body));
      app.use(reportErrors);
      const { url } = await start(app);
      const reply = await send(`${url}/small`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'y'.repeat(8 * KiB) }),
        chunked: true,
      });
      expect(reply.status).toBe(413);
      expect(JSON.parse(reply.text)).toMatchObject({ type: 'entity.too.large' });
    });

    test('malformed JSON is a 400 from the parser', async () => {
      const app = express();
      app.post('/echo', express.json(), (req, res) => res.json(req.body));
      app.use(reportErrors);
      const { server } = await start(app);
      const response = await request(server).post('/echo').set('Content-Type', 'application/json').send('{"open": ').expect(400);
      expect(response.body).toMatchObject({ type: 'entity.parse.failed' });
    });
  });

  describe('cookie-parser', () => {
    const cookieApp = () => {
      const app = express();
      app.use(cookieParser('s3cret'));
      app.get('/set', (_req, res) => {
        res.cookie('plain', 'v1', { path: '/' });
        res.cookie('signed', 'v2', { signed: true, httpOnly: true });
        res.cookie('json', { a: 1 });
        res.send('set');
      });
      app.get('/read', (req, res) => res.json({ cookies: req.cookies, signed: req.signedCookies }));
      return app;
    };

    test('cookies set with res.cookie come back parsed, signed ones verified', async () => {
      const { url } = await start(cookieApp());
      const set = await send(`${url}/set`);
      expect(set.status).toBe(200);
      const lines = set.lines('set-cookie');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe('plain=v1; Path=/');
      expect(lines[1]).toMatch(/^signed=s%3Av2\.[^;]+; Path=\/; HttpOnly$/);
      expect(lines[2]).toMatch(/^json=j%3A/);
      const read = await send(`${url}/read`, { headers: { cookie: cookieHeader(lines) } });
      expect(JSON.parse(read.text)).toEqual({ cookies: { plain: 'v1', json: { a: 1 } }, signed: { signed: 'v2' } });
    });

    test('a tampered signed cookie reads as false; several Cookie fields are joined', async () => {
      const { url, port } = await start(cookieApp());
      const set = await send(`${url}/set`);
      const signed = set.lines('set-cookie')[1]!.split(';')[0]!.replace('v2', 'v3');
      const client = await RawClient.connect(port);
      try {
        // Three Cookie fields, as an HTTP/2 proxy may forward them: one cookie list for the app.
        await client.write(`GET /read HTTP/1.1\r\nHost: x\r\nCookie: ${signed}\r\nCookie: a=1\r\nCookie: b=two%20words\r\n\r\n`);
        const read = await client.readResponse();
        expect(JSON.parse(read.body.toString())).toEqual({ cookies: { a: '1', b: 'two words' }, signed: { signed: false } });
      } finally {
        client.destroy();
      }
    });
  });

  describe('express-session', () => {
    const sessionApp = () => {
      const app = express();
      app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false, name: 'sid' }));
      app.get('/count', (req, res) => {
        const s = sessionOf(req) as { views?: number };
        s.views = (s.views ?? 0) + 1;
        res.json({ views: s.views });
      });
      app.get('/both', (req, res) => {
        sessionOf(req).user = 'ann';
        res.cookie('theme', 'dark');
        res.send('both');
      });
      return app;
    };

    test('a counter kept in the session counts across requests with the cookie jar', async () => {
      const { server } = await start(sessionApp());
      const agent = request.agent(server);
      const first = await agent.get('/count').expect(200, { views: 1 });
      expect(first.headers['set-cookie']).toEqual([expect.stringMatching(/^sid=s%3A.+; Path=\/; HttpOnly$/)]);
      await agent.get('/count').expect(200, { views: 2 });
      await agent.get('/count').expect(200, { views: 3 });
      // Another client has its own session.
      await request(server).get('/count').expect(200, { views: 1 });
      await agent.get('/count').expect(200, { views: 4 });
    });

    test('the session cookie and a res.cookie stay two separate Set-Cookie lines', async () => {
      const { url } = await start(sessionApp());
      const reply = await send(`${url}/both`);
      expect(reply.status).toBe(200);
      const lines = reply.lines('set-cookie');
      expect(lines).toHaveLength(2);
      expect(lines.find((l) => l.startsWith('theme='))).toBe('theme=dark; Path=/');
      expect(lines.find((l) => l.startsWith('sid='))).toMatch(/^sid=s%3A[^,]+; Path=\/; HttpOnly$/);
      // And the session is really there on the next request.
      const again = await send(`${url}/count`, { headers: { cookie: cookieHeader(lines) } });
      expect(JSON.parse(again.text)).toEqual({ views: 1 });
      expect(again.lines('set-cookie')).toEqual([]);
    });
  });

  test('a large text response with several cookies is framed right (sanity for the parsers above)', async () => {
    const app = express();
    app.use(cookieParser());
    const big = text(200 * KiB);
    app.get('/', (req, res) => {
      res.cookie('a', '1');
      res.cookie('b', '2');
      res.type('text/plain').send(big);
    });
    const { url } = await start(app);
    const reply = await send(url);
    expect(reply.headers['content-length']).toBe(String(big.length));
    expect(reply.lines('set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(reply.text).toBe(big);
  });
});
