/**
 * The gateway contract (PEP 3333 as DESIGN.md adapts it): start_response, the body, close(),
 * errors, and wsgi.file_wrapper.
 */

import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { serve } from '../helpers/server.js';

async function get(app: GatewayApp, path = '/', extra = '') {
  const served = await serve(app);
  const client = await RawClient.connect(served.port);
  await client.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`);
  return { client, ...served };
}

describe('start_response', () => {
  test('a second call without exc_info throws', async () => {
    let thrown: unknown;
    const { client } = await get((_e, start) => {
      start('200 OK', []);
      try {
        start('500 Oops', []);
      } catch (error) {
        thrown = error;
      }
      return ['first'];
    });
    expect((await client.readResponse()).body.toString()).toBe('first');
    expect(thrown).toMatchObject({ code: 'ROCKET_ERR_START_RESPONSE' });
    client.destroy();
  });

  test('with exc_info before the head was sent, it replaces status and headers', async () => {
    const { client } = await get((_e, start) => {
      start('200 OK', [['X-First', '1']]);
      start('503 Busy', [['X-Second', '2']], new Error('failed'));
      return ['replaced'];
    });
    const response = await client.readResponse();
    expect(response.statusLine).toBe('HTTP/1.1 503 Busy');
    expect(response.header('x-first')).toBeUndefined();
    expect(response.header('x-second')).toBe('2');
    client.destroy();
  });

  test('with exc_info after the head was sent, it rethrows', async () => {
    const error = new Error('original');
    let rethrown: unknown;
    const { client } = await get((_e, start) => {
      const write = start('200 OK', []);
      write('sent');
      try {
        start('500 X', [], error);
      } catch (e) {
        rethrown = e;
      }
      return ['!'];
    });
    expect((await client.readResponse()).body.toString()).toBe('sent!');
    expect(rethrown).toBe(error);
    client.destroy();
  });

  test.each([
    ['a status with CR LF', 'HTTP/1.1 200 OK\r\nX: y', []],
    ['a status that is not NNN reason', 'OK', []],
    ['a four-digit status', '1000 Too Far', []],
    ['a two-digit status', '99 Too Low', []],
    ['a status without a space before its reason', '700Whatever', []],
    ['a header value with CR LF', '200 OK', [['X-Split', 'a\r\nSet-Cookie: evil=1']]],
    ['a header value with NUL', '200 OK', [['X', 'a\0b']]],
    ['a header name with a space', '200 OK', [['Bad Name', 'x']]],
    ['a header that is not a pair', '200 OK', [['only-name']]],
    ['headers that are not a list', '200 OK', 'nope'],
  ])('%s: 500, logged, and nothing of it on the wire', async (_name, status, headers) => {
    const { client, logs } = await get((_e, start) => {
      start(status, headers as never);
      return ['never'];
    });
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(all).not.toMatch(/evil|never|X-Split/);
    expect(logs.some((l) => l.level === 'error' && /ROCKET_ERR_START_RESPONSE|invalid|not a/.test(l.message))).toBe(true);
  });

  test.each([
    ['700 Whatever', 'HTTP/1.1 700 Whatever'],
    ['999 unknown', 'HTTP/1.1 999 unknown'],
    ['600', 'HTTP/1.1 600 Unknown'],
    ['299 ', 'HTTP/1.1 299 Unknown'],
  ])('status %j goes out as %j, as node:http sends codes up to 999', async (status, line) => {
    const { client } = await get((_e, start) => {
      start(status, [['Content-Length', '2']]);
      return ['ok'];
    });
    const response = await client.readResponse();
    expect(response.statusLine).toBe(line);
    expect(response.body.toString()).toBe('ok');
    // Nothing odd about it for the connection: the next request is served on it.
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).statusLine).toBe(line);
    client.destroy();
  });

  test('a 1xx status cannot be a final response', async () => {
    const { client } = await get((_e, start) => {
      start('100 Continue', []);
      return [];
    });
    expect((await client.readResponse()).status).toBe(500);
    await client.waitEnd();
  });

  test('numbers are accepted as header values', async () => {
    const { client } = await get((_e, start) => {
      start('200 OK', [['X-Count', 42]]);
      return [];
    });
    expect((await client.readResponse()).header('x-count')).toBe('42');
    client.destroy();
  });
});

describe('errors in the app', () => {
  test('a throw before start_response is a 500 with Connection: close, logged', async () => {
    const { client, logs } = await get(() => {
      throw new Error('boom');
    });
    const response = await client.readResponse();
    expect(response.status).toBe(500);
    expect(response.header('connection')).toBe('close');
    expect(response.body.toString()).not.toMatch(/boom/);
    await client.waitEnd();
    expect(logs.some((l) => l.level === 'error' && /GET \/ HTTP\/1\.1.*boom/s.test(l.message))).toBe(true);
  });

  test('a rejected promise is a 500', async () => {
    const { client } = await get(async () => {
      throw new Error('async boom');
    });
    expect((await client.readResponse()).status).toBe(500);
    await client.waitEnd();
  });

  test('a throw after the head was sent aborts the connection: no clean chunked end', async () => {
    const { client, logs } = await get((_e, start) => {
      start('200 OK', []);
      return (function* () {
        yield 'partial';
        yield 'more';
        throw new Error('mid-body');
      })();
    });
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/Transfer-Encoding: chunked/);
    expect(all).toContain('7\r\npartial\r\n');
    expect(all.endsWith('0\r\n\r\n')).toBe(false);
    expect(logs.some((l) => l.level === 'error' && /mid-body/.test(l.message))).toBe(true);
  });

  test('returning something that is not a body is a 500 that says why in the log', async () => {
    const { client, logs } = await get((_e, start) => {
      start('200 OK', []);
      return undefined as never;
    });
    expect((await client.readResponse()).status).toBe(500);
    expect(logs.some((l) => /must return an iterable body/.test(l.message))).toBe(true);
    client.destroy();
  });

  test('a body chunk of the wrong type is a 500', async () => {
    const { client } = await get((_e, start) => {
      start('200 OK', []);
      return [42 as never];
    });
    expect((await client.readResponse()).status).toBe(500);
    client.destroy();
  });

  test('forgetting start_response is a 500', async () => {
    const { client } = await get(() => ['body']);
    expect((await client.readResponse()).status).toBe(500);
    client.destroy();
  });

  test('the server keeps serving after app errors', async () => {
    let n = 0;
    const { port } = await serve((_e, start) => {
      if (n++ % 2 === 0) throw new Error('every other');
      start('200 OK', []);
      return ['ok'];
    });
    for (let i = 0; i < 4; i++) {
      const client = await RawClient.connect(port);
      await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
      expect((await client.readResponse()).status).toBe(i % 2 === 0 ? 500 : 200);
      client.destroy();
    }
  });
});

describe('closing the body', () => {
  test('return() is called after the body was sent', async () => {
    const events: string[] = [];
    const { client } = await get((_e, start) => {
      start('200 OK', []);
      return {
        [Symbol.iterator]() {
          let i = 0;
          return {
            next: () => (i++ < 2 ? { done: false, value: `c${i}` } : { done: true, value: undefined }),
            return: () => {
              events.push('return');
              return { done: true, value: undefined };
            },
          };
        },
      } as Iterable<string>;
    });
    expect((await client.readResponse()).body.toString()).toBe('c1c2');
    await expect.poll(() => events).toEqual(['return']);
    client.destroy();
  });

  test('return() is called when the client goes away in the middle of an async body', async () => {
    let closed!: () => void;
    const done = new Promise<void>((resolve) => (closed = resolve));
    let firstSent!: () => void;
    const sent = new Promise<void>((resolve) => (firstSent = resolve));
    const { client } = await get((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        try {
          yield 'first';
          firstSent();
          await new Promise((resolve) => setTimeout(resolve, 50));
          for (;;) {
            yield 'x'.repeat(65536);
            await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          closed();
        }
      })();
    });
    await sent;
    client.destroy();
    await done;
  });

  test('a close() method on the body is called too, and a failing close is logged', async () => {
    const { client, logs } = await get((_e, start) => {
      start('200 OK', []);
      const body = ['a', 'b'][Symbol.iterator]() as IterableIterator<string> & { close(): void };
      const iterable = {
        [Symbol.iterator]: () => body,
        close() {
          throw new Error('close failed');
        },
      };
      return iterable;
    });
    expect((await client.readResponse()).body.toString()).toBe('ab');
    await expect.poll(() => logs.some((l) => /close failed/.test(l.message))).toBe(true);
    client.destroy();
  });
});

describe('wsgi.file_wrapper', () => {
  test('streams a FileHandle block by block and closes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rocket-fw-'));
    const path = join(dir, 'data.bin');
    const content = Buffer.alloc(200_000, 0x61);
    content.write('START', 0);
    content.write('END', content.length - 3);
    await writeFile(path, content);
    let handle: Awaited<ReturnType<typeof open>> | null = null;
    const { client } = await get(async (environ, start) => {
      handle = await open(path);
      const { size } = await handle.stat();
      start('200 OK', [['Content-Length', String(size)]]);
      const wrap = environ['wsgi.file_wrapper'] as (f: unknown, b: number) => AsyncIterable<Uint8Array>;
      return wrap(handle, 16384);
    });
    const response = await client.readResponse();
    expect(response.body.equals(content)).toBe(true);
    await expect.poll(async () => {
      try {
        await handle!.stat();
        return 'open';
      } catch {
        return 'closed';
      }
    }).toBe('closed');
    client.destroy();
    await rm(dir, { recursive: true });
  });

  test('streams a Readable and an object with read(size)', async () => {
    const { port } = await serve((environ, start) => {
      start('200 OK', []);
      const wrap = environ['wsgi.file_wrapper'] as (f: unknown, b?: number) => AsyncIterable<Uint8Array>;
      if (environ.PATH_INFO === '/stream') return wrap(Readable.from(['one', 'two']));
      let left = 3;
      return wrap({ read: (size: number) => (left-- > 0 ? 'z'.repeat(Math.min(size, 2)) : '') }, 2);
    });
    const client = await RawClient.connect(port);
    await client.write('GET /stream HTTP/1.1\r\nHost: t\r\n\r\nGET /reader HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('onetwo');
    expect((await client.readResponse()).body.toString()).toBe('zzzzzz');
    client.destroy();
  });
});

describe('rawHeadersOnly', () => {
  /** Answers the environ's header-derived keys and its raw fields. */
  function reporter(rawHeadersOnly: boolean): GatewayApp {
    const app: GatewayApp = (environ, startResponse) => {
      const keys = Object.keys(environ).filter((key) => key.startsWith('HTTP_') || key === 'CONTENT_TYPE');
      const body = JSON.stringify({ keys: Object.fromEntries(keys.map((key) => [key, environ[key]])), raw: environ['rocket.raw_headers'], remote: environ.REMOTE_ADDR });
      startResponse('200 OK', [['Content-Type', 'application/json']]);
      return [body];
    };
    app.rawHeadersOnly = rawHeadersOnly;
    return app;
  }
  const request = 'GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.9\r\nAccept: */*\r\n\r\n';

  test('an app that says so gets no HTTP_* keys, the raw fields as sent; trusted forwarded headers still apply', async () => {
    for (const [trust, remote] of [['', '127.0.0.1'], ['127.0.0.1', '203.0.113.9']] as const) {
      const { port } = await serve(reporter(true), { forwardedAllowIps: trust });
      const client = await RawClient.connect(port);
      await client.write(request);
      const answer = JSON.parse((await client.readResponse()).body.toString());
      expect(answer).toEqual({ keys: { CONTENT_TYPE: '' }, raw: ['Host', 't', 'X-Forwarded-For', '203.0.113.9', 'Accept', '*/*'], remote });
      client.destroy();
    }
  });

  test('a forwarded host from a trusted peer is its one HTTP_* key', async () => {
    const { port } = await serve(reporter(true), { forwardedAllowIps: '127.0.0.1' });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-Host: example.com\r\n\r\n');
    const answer = JSON.parse((await client.readResponse()).body.toString());
    expect(answer.keys).toEqual({ CONTENT_TYPE: '', HTTP_HOST: 'example.com' });
    client.destroy();
  });

  test('an app that does not gets them all', async () => {
    const { port } = await serve(reporter(false));
    const client = await RawClient.connect(port);
    await client.write(request);
    const answer = JSON.parse((await client.readResponse()).body.toString());
    expect(answer.keys).toEqual({ CONTENT_TYPE: '', HTTP_HOST: 't', HTTP_X_FORWARDED_FOR: '203.0.113.9', HTTP_ACCEPT: '*/*' });
    client.destroy();
  });
});
