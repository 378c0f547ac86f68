/**
 * How a bridged `req` receives its body: what has arrived is pushed at once, the rest as it comes,
 * and a `wsgi.input` a middleware put in the server's place is read through its async iterator.
 */

import http from 'node:http';
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { Environ, GatewayApp } from '@rocketserver/core';
import { toGateway } from '@rocketserver/adapter-node';
import { serve } from '../../packages/core/test/helpers/server.js';

/** Answers the body's length and SHA-256, read with 'data' events, and how many chunks it came in. */
function digest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const hash = createHash('sha256');
  let length = 0;
  let chunks = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    length += chunk.length;
    chunks++;
  });
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ length, chunks, sha256: hash.digest('hex'), complete: req.complete }));
  });
}

async function post(port: number, body: Buffer | AsyncIterable<Buffer>): Promise<{ length: number; chunks: number; sha256: string; complete: boolean }> {
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', body: body as BodyInit, duplex: 'half' };
  const response = await fetch(`http://127.0.0.1:${port}/`, init);
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the request body of a bridged request', () => {
  test('a small body that came with the head, and a 4 MiB one that arrives over time, whole and in order', async () => {
    const { port } = await serve(toGateway(digest));
    const small = Buffer.from('x'.repeat(1024));
    expect(await post(port, small)).toMatchObject({ length: 1024, sha256: sha256(small), complete: true });
    const large = Buffer.alloc(4 << 20);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31) & 0xff;
    const result = await post(port, large);
    expect(result).toMatchObject({ length: large.length, sha256: sha256(large), complete: true });
    expect(result.chunks).toBeGreaterThan(1);
  });

  test('a chunked body sent piece by piece, each piece waited for', async () => {
    const { port } = await serve(toGateway(digest));
    const pieces = ['first ', 'second ', 'third'].map((p) => Buffer.from(p));
    async function* slowly() {
      for (const piece of pieces) {
        yield piece;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(await post(port, slowly())).toMatchObject({ length: 18, sha256: sha256(Buffer.concat(pieces)), complete: true });
  });

  test("what has arrived is taken from the server's input without waiting", async () => {
    let taken = 0;
    const counting: GatewayApp = (environ: Environ, startResponse) => {
      const input = environ['wsgi.input'] as Environ['wsgi.input'] & { readChunkNow(): Buffer | null | undefined };
      const readChunkNow = input.readChunkNow.bind(input);
      input.readChunkNow = () => {
        const chunk = readChunkNow();
        if (chunk !== undefined) taken++;
        return chunk;
      };
      return toGateway(digest)(environ, startResponse);
    };
    const { port } = await serve(counting);
    const body = Buffer.from('x'.repeat(1024));
    expect(await post(port, body)).toMatchObject({ length: 1024, sha256: sha256(body), complete: true });
    // At least the end of the body came this way (and the body too, when it came with the head).
    expect(taken).toBeGreaterThanOrEqual(1);
  });

  test("an input whose async iterator a middleware patched is read through the patch", async () => {
    const tee: Buffer[] = [];
    const teeing: GatewayApp = (environ: Environ, startResponse) => {
      const input = environ['wsgi.input'];
      const iterate = input[Symbol.asyncIterator].bind(input);
      input[Symbol.asyncIterator] = () => {
        const inner = iterate();
        return {
          next: async () => {
            const result = await inner.next();
            if (result.done !== true) tee.push(result.value);
            return result;
          },
        };
      };
      return toGateway(digest)(environ, startResponse);
    };
    const { port } = await serve(teeing);
    const body = Buffer.from('seen by the middleware');
    expect(await post(port, body)).toMatchObject({ length: body.length, sha256: sha256(body) });
    expect(Buffer.concat(tee).toString()).toBe('seen by the middleware');
  });

  test('a wsgi.input a middleware put in its place is the body req sees', async () => {
    // The middleware upper-cases the body through an input of its own: no readChunkNow there.
    const upper: GatewayApp = (environ: Environ, startResponse) => {
      const original = environ['wsgi.input'];
      environ['wsgi.input'] = {
        read: () => Promise.reject(new Error('not used')),
        readline: () => Promise.reject(new Error('not used')),
        readlines: () => Promise.reject(new Error('not used')),
        async *[Symbol.asyncIterator]() {
          for await (const chunk of original) yield Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1');
        },
      };
      return toGateway(digest)(environ, startResponse);
    };
    const { port } = await serve(upper);
    const body = Buffer.from('hello, body');
    expect(await post(port, body)).toMatchObject({ length: body.length, sha256: sha256(Buffer.from('HELLO, BODY')), complete: true });
  });
});
