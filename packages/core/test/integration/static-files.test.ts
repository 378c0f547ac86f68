/**
 * The static file app (src/apps/static-files.ts) over real sockets: methods, content types, validators
 * and 304, ranges, directories, streaming and closing the file, and a table of path traversal
 * attempts that must never reach a file outside the document root.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, realpath, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mount, Rocket, type GatewayApp } from '@rocketserver/core';
import { FileBody, staticFiles } from '../../src/apps/static-files.js';
import { RawClient, parseResponse, type RawResponse } from '../helpers/raw-client.js';
import { memoryLogger, serve } from '../helpers/server.js';

const SECRET = `TOP-SECRET-${process.pid}-${Date.now()}`;
const HELLO = 'Hello, world!\n';
/** 200 KiB: several 64 KiB blocks, with a pattern that shows a misplaced byte. */
const BIG = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => (i * 31 + (i >> 8)) % 251));
/** Large enough that the kernel's socket buffers cannot hold it: the server must be cut off mid-body. */
const HUGE_SIZE = 64 * 1024 * 1024;

let base: string;
let root: string;
let hasFifo = false;
const servers: Rocket[] = [];
let plainPort: number;
let listingPort: number;
let mountedPort: number;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'rocket-static-')));
  root = join(base, 'root');
  await writeFile(join(base, 'secret.txt'), SECRET);
  await mkdir(join(base, 'outside-dir'));
  await writeFile(join(base, 'outside-dir', 'secret.txt'), SECRET);
  await mkdir(root);
  const files: Record<string, string | Buffer> = {
    'hello.txt': HELLO,
    'index.html': '<h1>home</h1>',
    'style.css': 'body{}',
    'app.js': 'export {};',
    'module.mjs': 'export {};',
    'data.json': '{}',
    'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    'PHOTO.JPG': Buffer.from([0xff, 0xd8]),
    'font.woff2': Buffer.from([0x77, 0x4f, 0x46, 0x32]),
    'unknown.xyz': 'xyz',
    'noextension': 'none',
    'empty.txt': '',
    'big.bin': BIG,
    'hello wörld.txt': 'spaces and umlauts',
    '.env': `DOTENV ${SECRET}`,
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(root, name), content);
  await mkdir(join(root, '.git'));
  await writeFile(join(root, '.git', 'config'), `[core] ${SECRET}`);
  await mkdir(join(root, '.well-known'));
  await writeFile(join(root, '.well-known', 'acme.txt'), 'challenge');
  await mkdir(join(root, 'sub'));
  await writeFile(join(root, 'sub', 'index.html'), 'sub index');
  await writeFile(join(root, 'sub', 'inner.txt'), 'inner');
  await mkdir(join(root, 'dir:colon'));
  await mkdir(join(root, 'noindex'));
  for (const name of ['b.txt', 'a.txt', 'x&y.txt', 'a<b>.txt', 'wörld.txt', '.hidden']) await writeFile(join(root, 'noindex', name), name);
  await mkdir(join(root, 'noindex', 'Dir'));
  await symlink('../../secret.txt', join(root, 'noindex', 'link-out'));
  await symlink('../hello.txt', join(root, 'noindex', 'link-in'));
  await symlink('hello.txt', join(root, 'link-in.txt'));
  await symlink('sub', join(root, 'link-in-dir'));
  await symlink('../secret.txt', join(root, 'link-out.txt'));
  await symlink(join(base, 'secret.txt'), join(root, 'link-out-abs.txt'));
  await symlink('../outside-dir', join(root, 'link-out-dir'));
  await symlink('/etc', join(root, 'link-etc'));
  await symlink('missing-target', join(root, 'dangling'));
  await writeFile(join(root, 'locked.txt'), 'locked');
  await chmod(join(root, 'locked.txt'), 0o000);
  try {
    execFileSync('mkfifo', [join(root, 'fifo')]);
    hasFifo = true;
  } catch {
    hasFifo = false;
  }

  const start = async (app: GatewayApp) => {
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { logger: memoryLogger() });
    await server.start();
    servers.push(server);
    return server.addresses[0]!.port;
  };
  plainPort = await start(staticFiles({ document_root: root }));
  listingPort = await start(staticFiles({ document_root: root, display_index: true }));
  mountedPort = await start(mount({ '/static': staticFiles({ document_root: root }) }));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop({ timeout: 1 })));
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

/** One request on a fresh connection. `headers` are extra header lines, each ending in CRLF. */
async function request(target: string, options: { method?: string; headers?: string; port?: number } = {}): Promise<RawResponse> {
  const method = options.method ?? 'GET';
  const client = await RawClient.connect(options.port ?? plainPort);
  try {
    await client.write(`${method} ${target} HTTP/1.1\r\nHost: t\r\n${options.headers ?? ''}\r\n`);
    return await client.readResponse({ head: method === 'HEAD' });
  } finally {
    client.destroy();
  }
}

/** Everything the server sends for `target` on a connection it closes afterwards. */
async function requestRaw(target: string, port = plainPort): Promise<{ status: number; raw: Buffer }> {
  const client = await RawClient.connect(port);
  await client.write(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  const raw = await client.readToEnd();
  client.destroy();
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw.toString('latin1'));
  return { status: status === null ? 0 : Number(status[1]), raw };
}

/** How many of this process's descriptors are open on `path` (Linux only). */
function openDescriptors(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // Closed between the listing and the readlink.
    }
  }
  return count;
}

describe('files', () => {
  test('GET serves the file with type, length, validators and Accept-Ranges, not chunked', async () => {
    const response = await request('/hello.txt');
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(HELLO);
    expect(response.framing).toBe('length');
    expect(response.header('content-length')).toBe(String(HELLO.length));
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.header('accept-ranges')).toBe('bytes');
    expect(response.header('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const lastModified = response.header('last-modified')!;
    expect(lastModified).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });

  test('a file of several blocks arrives whole and in order, with Content-Length', async () => {
    const response = await request('/big.bin');
    expect(response.status).toBe(200);
    expect(response.framing).toBe('length');
    expect(response.header('content-length')).toBe(String(BIG.length));
    expect(response.header('content-type')).toBe('application/octet-stream');
    expect(response.body.equals(BIG)).toBe(true);
  });

  test('HEAD gets the headers GET gets, Content-Length included, and no body', async () => {
    const client = await RawClient.connect(plainPort);
    // Pipelined: if HEAD sent a body, the GET's response would not parse.
    await client.write('HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
    const head = await client.readResponse({ head: true });
    const get = await client.readResponse();
    client.destroy();
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    const fields = (r: RawResponse) => r.headers.filter(([name]) => name.toLowerCase() !== 'date');
    expect(fields(head)).toEqual(fields(get));
    expect(head.header('content-length')).toBe(String(BIG.length));
    expect(get.body.equals(BIG)).toBe(true);
  });

  test('an empty file is 200 with Content-Length: 0', async () => {
    const response = await request('/empty.txt');
    expect(response.status).toBe(200);
    expect(response.header('content-length')).toBe('0');
    expect(response.body.length).toBe(0);
  });

  test.each([
    ['/index.html', 'text/html; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/module.mjs', 'text/javascript; charset=utf-8'],
    ['/data.json', 'application/json; charset=utf-8'],
    ['/image.png', 'image/png'],
    ['/PHOTO.JPG', 'image/jpeg'],
    ['/font.woff2', 'font/woff2'],
    ['/unknown.xyz', 'application/octet-stream'],
    ['/noextension', 'application/octet-stream'],
  ])('%s is served as %s', async (path, type) => {
    const response = await request(path);
    expect(response.status).toBe(200);
    expect(response.header('content-type')).toBe(type);
  });

  test('a name with a space and non-ASCII letters, percent-encoded as UTF-8', async () => {
    const response = await request('/hello%20w%C3%B6rld.txt');
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('spaces and umlauts');
  });

  test('the query string is not part of the path', async () => {
    const response = await request('/hello.txt?v=1&x=/../secret.txt');
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(HELLO);
  });

  test('a symlink inside the root is served', async () => {
    expect((await request('/link-in.txt')).body.toString()).toBe(HELLO);
    expect((await request('/link-in-dir/inner.txt')).body.toString()).toBe('inner');
  });

  test('a missing file, a dangling symlink and a file with a trailing slash are 404', async () => {
    for (const path of ['/missing.txt', '/sub/missing', '/missing/deeper', '/dangling', '/hello.txt/', '/hello.txt/x']) {
      const response = await request(path);
      expect(response.status, path).toBe(404);
      expect(response.header('content-type')).toBe('text/plain; charset=utf-8');
      expect(response.body.toString()).toBe('Not Found\n');
    }
  });

  test('dotfiles are 404, except under .well-known', async () => {
    for (const path of ['/.env', '/.git/config', '/.git/', '/noindex/.hidden', '/%2eenv', '/%2Egit/config']) {
      const response = await request(path);
      expect(response.status, path).toBe(404);
      expect(response.body.toString()).not.toContain(SECRET);
    }
    expect((await request('/.well-known/acme.txt')).body.toString()).toBe('challenge');
  });

  test.skipIf(!hasFifoSupport())('a FIFO is 404, at once', async () => {
    expect(hasFifo).toBe(true);
    expect((await request('/fifo')).status).toBe(404);
  });

  test.skipIf(process.getuid?.() === 0)('a file the server may not read is 403, without details', async () => {
    const response = await request('/locked.txt');
    expect(response.status).toBe(403);
    expect(response.body.toString()).toBe('Forbidden\n');
  });

  test('a document root that does not exist is 404 for everything', async () => {
    const { port } = await serve(staticFiles({ document_root: join(base, 'no-such-root') }));
    expect((await request('/', { port })).status).toBe(404);
    expect((await request('/hello.txt', { port })).status).toBe(404);
  });
});

describe('methods', () => {
  test.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s is 405 with Allow: GET, HEAD', async (method) => {
    const response = await request('/hello.txt', { method, headers: 'Content-Length: 0\r\n' });
    expect(response.status).toBe(405);
    expect(response.header('allow')).toBe('GET, HEAD');
    expect(response.body.toString()).not.toContain(HELLO);
  });
});

describe('conditional requests', () => {
  async function validators(): Promise<{ etag: string; lastModified: string }> {
    const response = await request('/hello.txt', { method: 'HEAD' });
    return { etag: response.header('etag')!, lastModified: response.header('last-modified')! };
  }

  test('a matching If-None-Match is 304 with the validators and no body', async () => {
    const { etag, lastModified } = await validators();
    const client = await RawClient.connect(plainPort);
    // Pipelined: a body after the 304 would corrupt the next response.
    await client.write(`GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: ${etag}\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n`);
    const notModified = await client.readResponse();
    const next = await client.readResponse();
    client.destroy();
    expect(notModified.status).toBe(304);
    expect(notModified.framing).toBe('none');
    expect(notModified.header('etag')).toBe(etag);
    expect(notModified.header('last-modified')).toBe(lastModified);
    expect(notModified.header('transfer-encoding')).toBeUndefined();
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe(HELLO);
  });

  test('If-None-Match: lists, *, and weak comparison', async () => {
    const { etag } = await validators();
    const cases: [string, number][] = [
      [`"nope", ${etag}`, 304],
      [`"a,b" , ${etag}`, 304],
      ['*', 304],
      [`W/${etag}`, 304],
      ['"nope"', 200],
      ['W/"nope", "other"', 200],
      [etag.slice(0, -1), 200],
      ['garbage', 200],
    ];
    for (const [field, status] of cases) {
      expect((await request('/hello.txt', { headers: `If-None-Match: ${field}\r\n` })).status, field).toBe(status);
    }
  });

  test('If-None-Match takes precedence over If-Modified-Since', async () => {
    const { lastModified } = await validators();
    const response = await request('/hello.txt', { headers: `If-None-Match: "other"\r\nIf-Modified-Since: ${lastModified}\r\n` });
    expect(response.status).toBe(200);
  });

  test('If-Modified-Since: not older than the mtime is 304; older or invalid is 200', async () => {
    const { lastModified } = await validators();
    const mtime = Date.parse(lastModified);
    const cases: [string, number][] = [
      [lastModified, 304],
      [new Date(mtime + 3600_000).toUTCString(), 304],
      [new Date(mtime - 1000).toUTCString(), 200],
      ['yesterday', 200],
      ['1', 200],
    ];
    for (const [field, status] of cases) {
      expect((await request('/hello.txt', { headers: `If-Modified-Since: ${field}\r\n` })).status, field).toBe(status);
    }
  });

  test('HEAD with a matching validator is 304 too', async () => {
    const { etag } = await validators();
    const response = await request('/hello.txt', { method: 'HEAD', headers: `If-None-Match: ${etag}\r\n` });
    expect(response.status).toBe(304);
  });
});

describe('ranges', () => {
  const size = BIG.length;

  test.each([
    ['bytes=0-4', 0, 4],
    ['bytes=100-', 100, size - 1],
    ['bytes=-3', size - 3, size - 1],
    ['bytes=65530-65545', 65530, 65545],
    ['bytes=200000-999999', 200000, size - 1],
    ['bytes=-999999', 0, size - 1],
    ['BYTES=1-1', 1, 1],
  ])('%s → 206 with Content-Range', async (field, first, last) => {
    const response = await request('/big.bin', { headers: `Range: ${field}\r\n` });
    expect(response.status).toBe(206);
    expect(response.header('content-range')).toBe(`bytes ${first}-${last}/${size}`);
    expect(response.header('content-length')).toBe(String(last - first + 1));
    expect(response.header('content-type')).toBe('application/octet-stream');
    expect(response.body.equals(BIG.subarray(first, last + 1))).toBe(true);
  });

  test.each(['bytes=204800-', 'bytes=999999-1000000', 'bytes=-0'])('%s → 416 with Content-Range: bytes */size', async (field) => {
    const response = await request('/big.bin', { headers: `Range: ${field}\r\n` });
    expect(response.status).toBe(416);
    expect(response.header('content-range')).toBe(`bytes */${size}`);
    expect(response.body.length).toBe(0);
  });

  test('any range of an empty file is 416', async () => {
    const response = await request('/empty.txt', { headers: 'Range: bytes=0-\r\n' });
    expect(response.status).toBe(416);
    expect(response.header('content-range')).toBe('bytes */0');
  });

  test.each(['bytes=0-1,5-6', 'bytes=0-1, 10-', 'bytes=5-2', 'items=0-1', 'bytes=a-b', 'bytes 0-1', 'bytes='])(
    '%s is ignored: 200 with the whole file',
    async (field) => {
      const response = await request('/big.bin', { headers: `Range: ${field}\r\n` });
      expect(response.status).toBe(200);
      expect(response.header('content-range')).toBeUndefined();
      expect(response.body.equals(BIG)).toBe(true);
    },
  );

  test('HEAD ignores Range (RFC 9110 §14.2)', async () => {
    const response = await request('/big.bin', { method: 'HEAD', headers: 'Range: bytes=0-4\r\n' });
    expect(response.status).toBe(200);
    expect(response.header('content-length')).toBe(String(size));
  });

  test('If-Range: the current ETag or Last-Modified keeps the range; anything else gets the whole file', async () => {
    const head = await request('/big.bin', { method: 'HEAD' });
    const etag = head.header('etag')!;
    const lastModified = head.header('last-modified')!;
    const cases: [string, number][] = [
      [etag, 206],
      [lastModified, 206],
      [`W/${etag}`, 200],
      ['"other"', 200],
      [new Date(Date.parse(lastModified) - 1000).toUTCString(), 200],
    ];
    for (const [field, status] of cases) {
      const response = await request('/big.bin', { headers: `Range: bytes=0-9\r\nIf-Range: ${field}\r\n` });
      expect(response.status, field).toBe(status);
    }
  });
});

describe('directories', () => {
  test('without the trailing slash: 301 to the slash form, relative, query kept', async () => {
    const cases: [string, string][] = [
      ['/sub', 'sub/'],
      ['/sub?a=1&b=2', 'sub/?a=1&b=2'],
      ['/link-in-dir', 'link-in-dir/'],
      ['/dir:colon', 'dir%3Acolon/'],
      ['/dir%3Acolon', 'dir%3Acolon/'],
    ];
    for (const [target, location] of cases) {
      const response = await request(target);
      expect(response.status, target).toBe(301);
      expect(response.header('location'), target).toBe(location);
    }
  });

  test('with the slash: index.html', async () => {
    expect((await request('/')).body.toString()).toBe('<h1>home</h1>');
    const sub = await request('/sub/');
    expect(sub.status).toBe(200);
    expect(sub.header('content-type')).toBe('text/html; charset=utf-8');
    expect(sub.body.toString()).toBe('sub index');
    expect((await request('/link-in-dir/')).body.toString()).toBe('sub index');
  });

  test('no index.html and no display_index: 404', async () => {
    expect((await request('/noindex/')).status).toBe(404);
    expect((await request('/dir:colon/')).status).toBe(404);
  });

  test('display_index: a sorted, escaped listing without dotfiles or links out of the root', async () => {
    const response = await request('/noindex/', { port: listingPort });
    expect(response.status).toBe(200);
    expect(response.header('content-type')).toBe('text/html; charset=utf-8');
    expect(response.header('content-length')).toBe(String(response.body.length));
    const html = response.body.toString();
    expect(html).toContain('<title>Index of /noindex/</title>');
    const links = [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[1], m[2]]);
    expect(links).toEqual([
      ['../', '../'],
      ['Dir/', 'Dir/'],
      ['a.txt', 'a.txt'],
      ['a%3Cb%3E.txt', 'a&lt;b&gt;.txt'],
      ['b.txt', 'b.txt'],
      ['link-in', 'link-in'],
      ['w%C3%B6rld.txt', 'wörld.txt'],
      ['x%26y.txt', 'x&amp;y.txt'],
    ]);
    expect(html).not.toContain('hidden');
    expect(html).not.toContain('link-out');
  });

  test('display_index: the listing links work, and HEAD gets its headers', async () => {
    expect((await request('/noindex/a%3Cb%3E.txt', { port: listingPort })).body.toString()).toBe('a<b>.txt');
    expect((await request('/noindex/w%C3%B6rld.txt', { port: listingPort })).body.toString()).toBe('wörld.txt');
    const get = await request('/noindex/', { port: listingPort });
    const head = await request('/noindex/', { port: listingPort, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe(get.header('content-length'));
    // A directory with index.html still serves it.
    expect((await request('/sub/', { port: listingPort })).body.toString()).toBe('sub index');
  });

  test('display_index does not list a directory outside the root', async () => {
    const response = await request('/link-out-dir/', { port: listingPort });
    expect(response.status).toBe(404);
    expect(response.body.toString()).not.toContain('secret');
  });
});

describe('under a mount prefix', () => {
  test('paths are taken below SCRIPT_NAME; the redirect stays relative', async () => {
    const file = await request('/static/hello.txt', { port: mountedPort });
    expect(file.status).toBe(200);
    expect(file.body.toString()).toBe(HELLO);
    expect((await request('/st%61tic/hello.txt', { port: mountedPort })).status).toBe(200);
    const bare = await request('/static', { port: mountedPort });
    expect(bare.status).toBe(301);
    expect(bare.header('location')).toBe('static/');
    expect((await request('/static/', { port: mountedPort })).body.toString()).toBe('<h1>home</h1>');
    expect((await request('/static/sub', { port: mountedPort })).header('location')).toBe('sub/');
  });

  test('traversal is refused there too', async () => {
    for (const target of ['/static/../secret.txt', '/static/%2e%2e/secret.txt', '/static/link-out.txt', '/static/..%2fsecret.txt', '/static/%', '/static/%zz/..%2f..%2fsecret.txt', '/static%/hello.txt']) {
      const { status, raw } = await requestRaw(target, mountedPort);
      expect(status, target).toBeGreaterThanOrEqual(400);
      expect(raw.includes(SECRET), target).toBe(false);
    }
  });
});

describe('path traversal', () => {
  // Each must be refused — by the server's parser (400) or by the app (404) — and never leak.
  const attempts = [
    '/../secret.txt',
    '/../../../../../../etc/passwd',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/.%2e/secret.txt',
    '/%2e./secret.txt',
    '/.%2E/secret.txt',
    '/sub/../../secret.txt',
    '/sub/%2e%2e/%2e%2e/secret.txt',
    '/sub/%2E%2e/%2e%2E/secret.txt',
    '/..%2fsecret.txt',
    '/..%2Fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/sub%2f..%2f..%2fsecret.txt',
    '/%2fetc%2fpasswd',
    '/%2Fetc%2Fpasswd',
    '/..\\secret.txt',
    '/sub\\..\\..\\secret.txt',
    '/..%5csecret.txt',
    '/..%5Csecret.txt',
    '/%2e%2e%5c%2e%2e%5csecret.txt',
    '/%00',
    '/index.html%00.txt',
    '/hello.txt%00',
    '/..%00/secret.txt',
    '/%',
    '/%zz',
    '/%2',
    '/a%',
    '/%%2e%2e/secret.txt',
    '/%.%2e/secret.txt',
    '/..%/secret.txt',
    '/%zz/../secret.txt',
    '/sub/%/../../secret.txt',
    '/%u002e%u002e/secret.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '/%C0%AE%C0%AE/secret.txt',
    '/%e0%80%ae%e0%80%ae/secret.txt',
    '/..%c0%afsecret.txt',
    '/%c0%af..%c0%afsecret.txt',
    '/%ef%bc%8e%ef%bc%8e/secret.txt',
    '/%ff/secret.txt',
    '//etc/passwd',
    '///secret.txt',
    '//../secret.txt',
    '/./../secret.txt',
    '/sub/./../../secret.txt',
    '/./secret.txt',
    '/..',
    '/.',
    '/%2e',
    '/%2e%2e',
    '/sub/..',
    '/sub/%2e%2e/',
    '/.../secret.txt',
    '/..;/secret.txt',
    '/%252e%252e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/..%252fsecret.txt',
    '/%25%32%65%25%32%65/secret.txt',
    '/link-out.txt',
    '/link-out-abs.txt',
    '/link-out-dir/secret.txt',
    '/link-out-dir/',
    '/link-out-dir',
    '/link-etc/passwd',
    '/noindex/link-out',
    '/link-in-dir/../../secret.txt',
    '/link-in-dir/%2e%2e/%2e%2e/secret.txt',
    '/.env',
    '/.git/config',
    'http://t/../secret.txt',
    'http://t/hello.txt/../../secret.txt',
    '*',
  ];

  test('the table holds at least 30 attempts', () => {
    expect(attempts.length).toBeGreaterThanOrEqual(30);
  });

  test.each(attempts)('%s is not served', async (target) => {
    for (const port of [plainPort, listingPort]) {
      const { status, raw } = await requestRaw(target, port);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(raw.includes(SECRET)).toBe(false);
      expect(raw.includes('root:x:0:0')).toBe(false);
    }
  });

  test('the app itself refuses with 404 what reaches it', async () => {
    // Spellings the server's parser lets through: the app's own answer is a plain 404.
    for (const target of [
      '/%2e%2e/secret.txt',
      '/%2e%2e/',
      '/..%2fsecret.txt',
      '/..%2f',
      '/..\\secret.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '//etc/passwd',
      '/link-out.txt',
      '/%00',
      // Malformed escapes reach the app (as on node:http), which refuses them.
      '/%',
      '/%zz',
      '/%2',
      '/%%2e%2e/secret.txt',
      '/%.%2e/secret.txt',
      '/..%/secret.txt',
      '/hello.txt%',
      '/%zz/../secret.txt',
    ]) {
      const response = await request(target);
      expect(response.status, target).toBe(404);
      expect(response.body.toString(), target).toBe('Not Found\n');
    }
  });
});

test('an absolute-form target (RFC 9112 §3.2.2) serves the file at its path', async () => {
  const response = await request('http://t/hello.txt');
  expect(response.status).toBe(200);
  expect(response.body.toString()).not.toContain(SECRET);
});

describe('the file is closed', () => {
  test.skipIf(!existsSync('/proc/self/fd'))('after every kind of response on a kept-alive connection', async () => {
    const path = join(root, 'big.bin');
    const client = await RawClient.connect(plainPort);
    const etag = await (async () => {
      await client.write('HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n');
      return (await client.readResponse({ head: true })).header('etag')!;
    })();
    const requests = [
      'GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n',
      'GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=10-70000\r\n\r\n',
      'GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=999999-\r\n\r\n',
      `GET /big.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: ${etag}\r\n\r\n`,
    ];
    for (const raw of requests) {
      await client.write(raw);
      expect((await client.readResponse()).status).toBeLessThan(500);
    }
    // The exchange before this one finished (file closed included) before this one was answered.
    await client.write('GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe(HELLO);
    client.destroy();
    expect(openDescriptors(path)).toBe(0);
  });

  test.skipIf(!existsSync('/proc/self/fd'))('when the client goes away mid-body', async () => {
    const hugeRoot = join(base, 'huge-root');
    await mkdir(hugeRoot);
    const hugePath = join(hugeRoot, 'huge.bin');
    // Sparse: large without writing it.
    await writeFile(hugePath, '');
    await truncate(hugePath, HUGE_SIZE);

    const inner = staticFiles({ document_root: hugeRoot });
    let yielded = 0;
    let file: FileBody | null = null;
    let returned!: () => void;
    const closed = new Promise<void>((resolve) => (returned = resolve));
    // Watches the body the static app returns: counts what it yields and sees its return().
    const app: GatewayApp = async (environ, startResponse) => {
      const body = await inner(environ, startResponse);
      if (!(body instanceof FileBody)) return body;
      file = body;
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          const result = await body.next();
          if (!result.done) yielded += result.value.length;
          return result;
        },
        async return() {
          const result = await body.return();
          returned();
          return result;
        },
      } as AsyncIterableIterator<Uint8Array>;
    };
    const { port } = await serve(app);
    expect(openDescriptors(hugePath)).toBe(0);
    const client = await RawClient.connect(port);
    await client.write('GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n');
    // Wait for the head and the first body byte.
    let headEnd = -1;
    while (headEnd === -1 || client.pending.length <= headEnd + 4) {
      await client.waitBytes(client.pending.length + 1);
      headEnd = client.pending.indexOf('\r\n\r\n');
    }
    const parsed = parseResponse(client.pending, true, false);
    const head = parsed !== null && 'response' in parsed ? parsed.response : null;
    expect(head?.status).toBe(200);
    expect(head?.header('content-length')).toBe(String(HUGE_SIZE));
    // Streaming: the file is open while the body goes out.
    expect(openDescriptors(hugePath)).toBe(1);
    client.destroy();
    await closed;
    expect(file!.closed).toBe(true);
    expect(yielded).toBeLessThan(HUGE_SIZE);
    expect(openDescriptors(hugePath)).toBe(0);
  });
});

function hasFifoSupport(): boolean {
  // Decided before beforeAll runs: whether mkfifo exists at all.
  return process.platform !== 'win32' && existsSync('/usr/bin/mkfifo');
}

describe("Rocket's 'fs' method", () => {
  test("new Rocket(interfaces, 'fs', { document_root, display_index }) serves the folder", async () => {
    const server = new Rocket(['127.0.0.1', 0], 'fs', { document_root: root, display_index: true }, { logger: memoryLogger(), handleSignals: false });
    await server.start();
    try {
      const client = await RawClient.connect(server.addresses[0]!.port);
      await client.write('GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\nDELETE /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n');
      expect((await client.readResponse()).status).toBe(200);
      const refused = await client.readResponse();
      expect(refused.status).toBe(405);
      expect(refused.header('allow')).toBe('GET, HEAD');
      client.destroy();
    } finally {
      await server.stop();
    }
  });

  test('without a document_root it is refused by name', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'fs', {})).toThrow(/"fs" method needs appInfo\.document_root/);
    expect(() => new Rocket(['127.0.0.1', 0], 'ftp', {})).toThrow(/unknown method "ftp"/);
  });
});
