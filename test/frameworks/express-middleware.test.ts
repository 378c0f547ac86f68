/**
 * Express 5 and Express 4 on Rocket: multer (memory and disk storage, large files, the fileSize
 * limit), cors (preflight and simple requests), helmet (its headers), morgan (the log line).
 */

import cors from 'cors';
import express from 'express';
import express4 from 'express4';
import helmet from 'helmet';
import morgan from 'morgan';
import multer from 'multer';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { listen } from '@rocketserver/adapter-express';
import { closeServers, KiB, MiB, noise, RawClient, removeTempDirs, send, served, sha256, tempDir } from './helpers.js';

afterEach(closeServers);
afterAll(removeTempDirs);

type Express = typeof express;
const frameworks: [string, Express][] = [
  ['Express 5', express],
  ['Express 4', express4 as unknown as Express],
];

/** What multer puts on req.file / req.files. */
interface MulterFile {
  fieldname: string;
  originalname: string;
  mimetype: string;
  size: number;
  buffer?: Buffer;
  path?: string;
}

const fileOf = (req: unknown) => (req as { file: MulterFile }).file;

interface Summary {
  fieldname: string;
  originalname: string;
  mimetype: string;
  size: number;
  sha: string;
  path?: string;
}

describe.each(frameworks)('%s', (_name, express) => {
  const start = (app: ReturnType<Express>) => served(listen(app, 0, '127.0.0.1'));

  describe('multer', () => {
    const summarise = (file: MulterFile): Summary => ({
      fieldname: file.fieldname,
      originalname: file.originalname,
      mimetype: file.mimetype,
      size: file.size,
      sha: sha256(file.buffer ?? readFileSync(file.path!)),
      ...(file.path === undefined ? {} : { path: file.path }),
    });

    const multerErrors = (err: { code?: string; field?: string; message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.code === 'LIMIT_FILE_SIZE' ? 413 : 500).json({ code: err.code, field: err.field, message: err.message });
    };

    test('memory storage: files and fields of a multipart form', async () => {
      const app = express();
      const upload = multer({ storage: multer.memoryStorage() });
      app.post('/upload', upload.fields([{ name: 'avatar', maxCount: 1 }, { name: 'docs', maxCount: 3 }]), (req, res) => {
        const fileMap = (req as unknown as { files: Record<string, MulterFile[]> }).files;
        res.json({
          body: { ...req.body },
          avatar: fileMap.avatar!.map(summarise),
          docs: fileMap.docs!.map(summarise),
        });
      });
      const { url } = await start(app);
      const avatar = noise(20 * KiB, 21);
      const doc1 = Buffer.from('first document\r\n--not-a-boundary\r\n');
      const doc2 = noise(5000, 22);
      const form = new FormData();
      form.append('title', 'holiday');
      form.append('note', 'multi\nline ✓');
      form.append('avatar', new Blob([avatar], { type: 'image/png' }), 'me.png');
      form.append('docs', new Blob([doc1], { type: 'text/plain' }), 'a.txt');
      form.append('docs', new Blob([doc2], { type: 'application/octet-stream' }), 'b.bin');
      const response = await fetch(`${url}/upload`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        // FormData sends line breaks in field values as CRLF.
        body: { title: 'holiday', note: 'multi\r\nline ✓' },
        avatar: [{ fieldname: 'avatar', originalname: 'me.png', mimetype: 'image/png', size: avatar.length, sha: sha256(avatar) }],
        docs: [
          { fieldname: 'docs', originalname: 'a.txt', mimetype: 'text/plain', size: doc1.length, sha: sha256(doc1) },
          { fieldname: 'docs', originalname: 'b.bin', mimetype: 'application/octet-stream', size: doc2.length, sha: sha256(doc2) },
        ],
      });
    });

    test('memory storage: a 3 MiB file (far larger than the socket buffers) arrives whole', async () => {
      const app = express();
      app.post('/upload', multer().single('file'), (req, res) => res.json({ file: summarise(fileOf(req)), body: { ...req.body } }));
      const { url } = await start(app);
      const big = noise(3 * MiB, 23);
      const form = new FormData();
      form.append('kind', 'big');
      form.append('file', new Blob([big]), 'big.bin');
      const response = await fetch(`${url}/upload`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const json = (await response.json()) as { body: unknown; file: Summary };
      expect(json.body).toEqual({ kind: 'big' });
      expect(json.file).toMatchObject({ originalname: 'big.bin', size: big.length, sha: sha256(big) });
    });

    test('a chunked upload (no Content-Length) is a body to multer too', async () => {
      const app = express();
      app.post('/upload', multer().single('file'), (req, res) => res.json({ file: summarise(fileOf(req)), body: { ...req.body } }));
      const { url } = await start(app);
      const data = noise(300 * KiB, 28);
      const form = new FormData();
      form.append('label', 'chunked');
      form.append('file', new Blob([data]), 'c.bin');
      // Serialise the form as fetch would, then send it with Transfer-Encoding: chunked.
      const encoded = new Request('http://localhost/', { method: 'POST', body: form });
      const body = Buffer.from(await encoded.arrayBuffer());
      const reply = await send(`${url}/upload`, { method: 'POST', headers: { 'content-type': encoded.headers.get('content-type')! }, body, chunked: true });
      expect(reply.status).toBe(200);
      const json = JSON.parse(reply.text);
      expect(json.body).toEqual({ label: 'chunked' });
      expect(json.file).toMatchObject({ originalname: 'c.bin', size: data.length, sha: sha256(data) });
    });

    test('disk storage: files are written to disk with the bytes that were sent', async () => {
      const dest = tempDir('rocket-multer-');
      const app = express();
      const upload = multer({ dest });
      app.post('/upload', upload.array('files', 5), (req, res) => {
        res.json({ files: (req as unknown as { files: MulterFile[] }).files.map(summarise), body: { ...req.body } });
      });
      const { url } = await start(app);
      const one = noise(2 * MiB + 17, 24);
      const two = Buffer.from('a small text file\n');
      const form = new FormData();
      form.append('owner', 'ann');
      form.append('files', new Blob([one], { type: 'application/octet-stream' }), 'one.bin');
      form.append('files', new Blob([two], { type: 'text/plain' }), 'two.txt');
      const response = await fetch(`${url}/upload`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const json = (await response.json()) as { files: Summary[]; body: unknown };
      expect(json.body).toEqual({ owner: 'ann' });
      expect(json.files.map((f) => [f.originalname, f.size])).toEqual([
        ['one.bin', one.length],
        ['two.txt', two.length],
      ]);
      // What is on disk is what the client sent.
      expect(path.dirname(json.files[0]!.path!)).toBe(dest);
      expect(sha256(readFileSync(json.files[0]!.path!))).toBe(sha256(one));
      expect(readFileSync(json.files[1]!.path!).equals(two)).toBe(true);
      expect(readdirSync(dest)).toHaveLength(2);
    });

    test('limits.fileSize: the error reaches the app (413 here), and no partial file stays on disk', async () => {
      const dest = tempDir('rocket-multer-limit-');
      const app = express();
      const upload = multer({ dest, limits: { fileSize: 16 * KiB } });
      app.post('/upload', upload.single('file'), (_req, res) => res.send('accepted'));
      app.get('/ping', (_req, res) => res.send('pong'));
      app.use(multerErrors);
      const { url } = await start(app);
      const form = new FormData();
      form.append('file', new Blob([noise(200 * KiB, 25)]), 'too-big.bin');
      const response = await fetch(`${url}/upload`, { method: 'POST', body: form });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'LIMIT_FILE_SIZE', field: 'file' });
      await expect.poll(() => readdirSync(dest)).toEqual([]);
      // The server is still healthy (and the keep-alive connection fetch reuses, if any).
      expect(await (await fetch(`${url}/ping`)).text()).toBe('pong');
    });

    test('a client that leaves mid-upload: multer reports the abort and removes the partial file', async () => {
      const dest = tempDir('rocket-multer-abort-');
      const errors: string[] = [];
      const app = express();
      app.post('/upload', multer({ dest }).single('file'), (_req, res) => res.send('accepted'));
      app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        errors.push(err.message);
        res.status(400).end();
      });
      const { port } = await start(app);
      const boundary = '----rocket-matrix-boundary';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="partial.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
      const client = await RawClient.connect(port);
      await client.write(
        `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${4 * MiB}\r\n\r\n${head}`,
      );
      await client.write(noise(256 * KiB, 27));
      // The file is being written…
      await expect.poll(() => readdirSync(dest)).toHaveLength(1);
      client.destroy();
      // …and after the abort it is gone, and the app heard of it.
      await expect.poll(() => errors).toEqual([expect.stringMatching(/^Request (aborted|closed)$/)]);
      await expect.poll(() => readdirSync(dest)).toEqual([]);
    });

    test('a file under the limit is accepted by the same app', async () => {
      const dest = tempDir('rocket-multer-ok-');
      const app = express();
      const upload = multer({ dest, limits: { fileSize: 16 * KiB } });
      app.post('/upload', upload.single('file'), (req, res) => res.json(summarise(fileOf(req))));
      app.use(multerErrors);
      const { url } = await start(app);
      const small = noise(16 * KiB, 26);
      const form = new FormData();
      form.append('file', new Blob([small]), 'fits.bin');
      const response = await fetch(`${url}/upload`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const json = (await response.json()) as Summary;
      expect(json.size).toBe(small.length);
      expect(existsSync(json.path!)).toBe(true);
    });
  });

  describe('cors', () => {
    test('preflight OPTIONS is answered with the CORS headers and 204', async () => {
      const app = express();
      app.use(cors({ origin: 'https://app.example', credentials: true, methods: ['GET', 'PUT'], allowedHeaders: ['X-Custom', 'Content-Type'], maxAge: 600 }));
      app.put('/things/1', (_req, res) => res.json({ updated: true }));
      const { url } = await start(app);
      const reply = await send(`${url}/things/1`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-custom' },
      });
      expect(reply.status).toBe(204);
      expect(reply.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(reply.headers['access-control-allow-credentials']).toBe('true');
      expect(reply.headers['access-control-allow-methods']).toBe('GET,PUT');
      expect(reply.headers['access-control-allow-headers']).toBe('X-Custom,Content-Type');
      expect(reply.headers['access-control-max-age']).toBe('600');
      expect(reply.headers['vary']).toBe('Origin');
      // cors sets Content-Length: 0; on a 204 a server may drop it (RFC 9110 §8.6 forbids it there).
      expect(reply.headers['content-length'] ?? '0').toBe('0');
      expect(reply.body.length).toBe(0);
    });

    test('default cors(): requested headers are reflected, simple requests get Allow-Origin *', async () => {
      const app = express();
      app.use(cors());
      app.get('/data', (_req, res) => res.json({ ok: true }));
      const { url, server } = await start(app);
      const preflight = await send(`${url}/data`, {
        method: 'OPTIONS',
        headers: { origin: 'https://other.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-a, x-b' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(preflight.headers['access-control-allow-methods']).toBe('GET,HEAD,PUT,PATCH,POST,DELETE');
      expect(preflight.headers['access-control-allow-headers']).toBe('x-a, x-b');
      expect(preflight.headers['vary']).toBe('Access-Control-Request-Headers');
      const simple = await request(server).get('/data').set('Origin', 'https://other.example').expect(200, { ok: true });
      expect(simple.headers['access-control-allow-origin']).toBe('*');
    });
  });

  describe('helmet', () => {
    test("helmet()'s security headers are all there, and X-Powered-By is gone", async () => {
      const app = express();
      app.use(helmet());
      app.get('/', (_req, res) => res.send('<p>safe</p>'));
      const { url } = await start(app);
      const reply = await send(url);
      expect(reply.status).toBe(200);
      expect(reply.headers).toMatchObject({
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'origin-agent-cluster': '?1',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-frame-options': 'SAMEORIGIN',
        'x-permitted-cross-domain-policies': 'none',
        'x-xss-protection': '0',
      });
      expect(reply.headers['x-powered-by']).toBeUndefined();
      expect(reply.text).toBe('<p>safe</p>');
    });
  });

  describe('morgan', () => {
    const logged = () => {
      const lines: string[] = [];
      return { lines, stream: { write: (line: string) => void lines.push(line) } };
    };

    test('one line per request, with the status and length the client saw', async () => {
      const { lines, stream } = logged();
      const app = express();
      app.use(morgan(':method :url :status :res[content-length] :remote-addr HTTP/:http-version :response-time', { stream }));
      app.get('/hello', (_req, res) => res.status(201).send('hello'));
      app.post('/data', express.json(), (req, res) => res.json(req.body));
      const { url } = await start(app);
      const reply = await send(`${url}/hello?x=1`);
      expect(reply.status).toBe(201);
      await expect.poll(() => lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^GET \/hello\?x=1 201 5 127\.0\.0\.1 HTTP\/1\.1 \d+\.\d{3}\n$/);
      const missing = await send(`${url}/missing`);
      const posted = await send(`${url}/data`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":"v"}' });
      await expect.poll(() => lines).toHaveLength(3);
      expect(lines[1]).toMatch(new RegExp(`^GET /missing 404 ${missing.headers['content-length']} 127\\.0\\.0\\.1 `));
      expect(lines[2]).toMatch(new RegExp(`^POST /data 200 ${posted.headers['content-length']} 127\\.0\\.0\\.1 `));
    });

    test("the 'combined' format: referrer, user agent, and '-' for a streamed body's length", async () => {
      const { lines, stream } = logged();
      const app = express();
      app.use(morgan('combined', { stream }));
      app.get('/stream', (_req, res) => {
        res.write('part one, ');
        res.end('part two');
      });
      const { url } = await start(app);
      const reply = await send(`${url}/stream`, { headers: { referer: 'https://ref.example/', 'user-agent': 'matrix-test/1.0' } });
      expect(reply.text).toBe('part one, part two');
      expect(reply.headers['transfer-encoding']).toBe('chunked');
      await expect.poll(() => lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/stream HTTP\/1\.1" 200 - "https:\/\/ref\.example\/" "matrix-test\/1\.0"\n$/);
    });
  });
});
