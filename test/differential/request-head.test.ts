/**
 * What reaches the app, and what is refused before it, for request heads node:http and Rocket
 * could disagree on: transfer codings, malformed percent-encoding in the path, and a complete but
 * invalid line in a head that has not ended yet (refused as soon as the line is complete, as
 * llhttp does, not at the end of the head or on a timer).
 */

import { describe, test } from 'vitest';
import { differential } from './harness.js';
import { nodeApp } from './frameworks.js';

/** Echoes what the app was handed: method, url, the request's Transfer-Encoding, the body's length. */
const echo = nodeApp(() => (request, res) => {
  let length = 0;
  request.on('data', (chunk: Buffer) => (length += chunk.length));
  request.on('end', () => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`${request.method} ${request.url} te=${request.headers['transfer-encoding'] ?? '-'} body=${length}`);
  });
});

const post = (te: string) => `POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: ${te}\r\n\r\n1\r\nx\r\n0\r\n\r\n`;

describe('Transfer-Encoding', () => {
  test.each(['chunked', 'Chunked'])('%s: the body reaches the app on both', async (te) => {
    await differential(echo, (c) => c.exchange(post(te)));
  });

  // RFC 9112 §6.3 rule 4: chunked absent, not final or applied twice → 400 and close, on both.
  test.each(['gzip', 'chunked, gzip', 'identity', 'xchunked', 'chunked, chunked', 'foo'])('%s: 400 on both', async (te) => {
    await differential(echo, async (c) => (await c.exchange(post(te), { probe: false })).response, { allow: ['coreRefusal'], traces: false });
  });

  // RFC 9112 §6.1: a coding Rocket does not decode before a final chunked → 501; node:http hands the
  // still-coded body to the app (README "Where Rocket deliberately differs from node:http").
  test.each(['gzip, chunked', 'foo, chunked', 'identity, chunked'])('%s: 501 on Rocket (INTENTIONAL.coreRefusal)', async (te) => {
    await differential(echo, (c) => c.exchange(post(te)), { allow: ['coreRefusal'], traces: false });
  });

  test('in an HTTP/1.0 request: 400 on Rocket (RFC 9112 §6.1, INTENTIONAL.coreRefusal)', async () => {
    await differential(
      echo,
      async (c) => (await c.exchange(post('chunked').replace('HTTP/1.1', 'HTTP/1.0'), { probe: false })).response,
      { allow: ['coreRefusal'], traces: false },
    );
  });
});

describe('malformed percent-encoding in the path', () => {
  // node:http (like waitress and gunicorn) hands these to the app with req.url as sent.
  test.each(['/%', '/%zz', '/a%2', '/100%/done', '/%%41', '/%2e%2e/', '/..%2f', '/%zz?q=%zz'])('%s reaches the app, req.url raw', async (target) => {
    await differential(echo, (c) => c.exchange(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
  });
});

describe('fail fast: a complete, invalid line of a head that has not ended', () => {
  // node:http (llhttp) refuses each of these as soon as the bad line is complete; so does Rocket,
  // long before the head's timer. Nothing more is sent: the answer must come anyway.
  test.each([
    ['whitespace at the start of a field line', 'GET / HTTP/1.1\r\n Host: foo'],
    ['obs-fold after a field line', 'GET / HTTP/1.1\r\nHost: foo\r\n\tmore'],
    ['a malformed version', 'GET / HTTP/1.x\r\nHost: foo'],
    ['a method with a character outside tchar', 'G(T / HTTP/1.1\r\n'],
    ['a field line without a colon', 'GET / HTTP/1.1\r\nHost: foo\r\nNoColon\r\n'],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : foo\r\n'],
    ['Content-Length that is not a number', 'POST / HTTP/1.1\r\nHost: foo\r\nContent-Length: 1x\r\n'],
  ])('%s: 400 at once (INTENTIONAL.coreRefusal)', async (_name, bytes) => {
    await differential(
      echo,
      async (c) => {
        const client = await c.connect();
        await client.send(bytes);
        const response = await client.read({ timeout: 2000 });
        await client.waitEnd(2000);
        return { response, connection: 'closed' };
      },
      { allow: ['coreRefusal'], traces: false },
    );
  });

  test('Content-Length with 22 digits: refused at once on both (413 on Rocket, 400 on node:http)', async () => {
    await differential(
      echo,
      async (c) => {
        const client = await c.connect();
        await client.send('POST / HTTP/1.1\r\nHost: foo\r\nContent-Length: 1234567890123456789012\r\n');
        const response = await client.read({ timeout: 2000 });
        await client.waitEnd(2000);
        return { refused: response.status === (c.side === 'node' ? 400 : 413), closed: true };
      },
      { traces: false },
    );
  });
});

describe('Host (RFC 9112 §3.2)', () => {
  test('missing in HTTP/1.1: 400 on both', async () => {
    await differential(echo, async (c) => (await c.exchange('GET / HTTP/1.1\r\n\r\n', { probe: false })).response, { allow: ['coreRefusal'], traces: false });
  });

  // node:http hands these to the app; RFC 9112 §3.2 says 400 (README "Where Rocket deliberately differs").
  test.each([
    ['an invalid value', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n'],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ])('%s: 400 on Rocket (INTENTIONAL.coreRefusal)', async (_name, bytes) => {
    await differential(echo, (c) => c.exchange(bytes), { allow: ['coreRefusal'], traces: false });
  });
});
