/**
 * Hostile input over real sockets: mutated requests, abrupt disconnects at every stage. The server
 * must answer or close each connection, never crash, never keep a connection or timer around, and
 * keep serving everybody else.
 */

import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { echoApp, serve } from '../helpers/server.js';

const SEEDS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi',
];
const MEANINGFUL = ['\r', '\n', '\0', ':', ' ', '\t', '\x7f', '\x80', '\xff', ';', '0', 'chunked', 'Content-Length: 3\r\n'];

const mutated = fc
  .record({
    seed: fc.constantFrom(...SEEDS),
    edits: fc.array(
      fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace'), text: fc.constantFrom(...MEANINGFUL) }),
      { minLength: 1, maxLength: 4 },
    ),
    repeat: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ seed, edits, repeat }) => {
    let s = seed.repeat(repeat);
    for (const { at, kind, text } of edits) {
      const i = at % (s.length + 1);
      if (kind === 'insert') s = s.slice(0, i) + text + s.slice(i);
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + 1);
      else s = s.slice(0, i) + text + s.slice(i + 1);
    }
    return s;
  });

test('mutated requests get an answer or a close, and the server stays healthy', async () => {
  const { server, port } = await serve(echoApp, { socketTimeout: 0.5, timeout: 0.5 });
  const samples = fc.sample(mutated, { numRuns: 150, seed: 42 });
  for (let i = 0; i < samples.length; i += 15) {
    await Promise.all(
      samples.slice(i, i + 15).map(async (request) => {
        const client = await RawClient.connect(port);
        await client.write(request);
        client.end();
        // Whatever comes back must be complete HTTP responses, then the end of the connection.
        const bytes = await client.readToEnd(3000);
        const text = bytes.toString('latin1');
        if (text.length > 0) expect(text).toMatch(/^HTTP\/1\.1 [1-5]\d\d /);
      }),
    );
  }
  await expect.poll(() => server.stats().connections.open).toBe(0);
  const client = await RawClient.connect(port);
  await client.write('GET /still-alive HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  expect((await client.readResponse()).status).toBe(200);
});

test('clients that vanish at every stage of a request leave nothing behind', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const app: GatewayApp = async (environ, start) => {
    if (environ.PATH_INFO === '/wait') await gate;
    const body = await environ['wsgi.input'].read();
    start('200 OK', []);
    return (async function* () {
      yield body;
      yield 'x'.repeat(100_000);
    })();
  };
  const { server, port } = await serve(app);
  const stages = [
    '',
    'GET / HT',
    'GET / HTTP/1.1\r\nHost: a\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab',
    'GET /wait HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  ];
  const clients = await Promise.all(
    stages.map(async (stage) => {
      const client = await RawClient.connect(port);
      if (stage) await client.write(stage);
      return client;
    }),
  );
  await expect.poll(() => server.stats().connections.open).toBe(stages.length);
  for (const client of clients) client.destroy();
  release();
  await expect.poll(() => server.stats().connections.open).toBe(0);
  const client = await RawClient.connect(port);
  await client.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  expect((await client.readResponse()).status).toBe(200);
});
