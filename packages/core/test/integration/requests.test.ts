/**
 * Requests on the wire: bodies, persistence, pipelining, 100-continue, unread bodies, and the
 * server's own error responses — each checked as the bytes a client reads.
 */

import { describe, expect, test } from 'vitest';
import type { GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { echoApp, serve, textApp, type Echo } from '../helpers/server.js';

const echoOf = (body: Buffer) => JSON.parse(body.toString()) as Echo;

describe('request bodies', () => {
  test('a Content-Length body is read exactly, and what follows is the next request', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    await client.write('POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi');
    const first = echoOf((await client.readResponse()).body);
    const second = echoOf((await client.readResponse()).body);
    expect([first.environ.PATH_INFO, first.body]).toEqual(['/a', 'hello']);
    expect([second.environ.PATH_INFO, second.body]).toEqual(['/b', 'hi']);
    expect(first.environ.CONTENT_LENGTH).toBe('5');
    client.destroy();
  });

  test('a chunked body is decoded, with extensions and trailers', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    await client.write(
      'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n6;q="a \\"b\\""\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n' +
        'GET /next HTTP/1.1\r\nHost: t\r\n\r\n',
    );
    const first = echoOf((await client.readResponse()).body);
    expect(first.body).toBe('hello world');
    expect(first.trailers).toEqual(['X-Checksum', 'abc']);
    expect(first.environ.CONTENT_LENGTH).toBe('');
    const second = echoOf((await client.readResponse()).body);
    expect(second.environ.PATH_INFO).toBe('/next');
    client.destroy();
  });

  test('a body arriving in many small pieces is read whole', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    const body = 'x'.repeat(300);
    await client.write(`POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 300; i += 50) await client.write(`32\r\n${body.slice(i, i + 50)}\r\n`);
    await client.write('0\r\n\r\n');
    expect(echoOf((await client.readResponse()).body).body).toBe(body);
    client.destroy();
  });

  test('wsgi.input read(n), readline() and iteration never read past the body', async () => {
    const app: GatewayApp = async (environ, start) => {
      const input = environ['wsgi.input'];
      const parts = [
        (await input.read(3)).toString(),
        (await input.readline()).toString(),
        (await input.readline(2)).toString(),
      ];
      for await (const chunk of input) parts.push(chunk.toString());
      parts.push(`[${(await input.read()).length}]`);
      start('200 OK', []);
      return [JSON.stringify(parts)];
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 14\r\n\r\nabcde\nfghij\nklGET / HTTP/1.1\r\n');
    const response = await client.readResponse();
    expect(JSON.parse(response.body.toString())).toEqual(['abc', 'de\n', 'fg', 'hij\nkl', '[0]']);
    client.destroy();
  });

  test('a body larger than maxBodySize by Content-Length is 413 before it is read', async () => {
    let called = false;
    const { port } = await serve(() => {
      called = true;
      return [];
    }, { maxBodySize: 10 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(413);
    expect(response.header('connection')).toBe('close');
    await client.waitEnd();
    expect(called).toBe(false);
  });

  test('a chunked body growing past maxBodySize is 413', async () => {
    const { port } = await serve(echoApp, { maxBodySize: 10 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(413);
    await client.waitEnd();
  });

  test('a malformed chunk is 400 and the connection closes', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(400);
    expect(response.body.toString()).toMatch(/chunk data is not followed by CRLF/);
    await client.waitEnd();
  });
});

describe('persistence', () => {
  test('HTTP/1.1 stays open; Connection: close closes after the response', async () => {
    const { port } = await serve(textApp('ok'));
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).header('connection')).toBe('keep-alive');
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: Keep-Alive, CLOSE\r\n\r\n');
    expect((await client.readResponse()).header('connection')).toBe('close');
    await client.waitEnd();
  });

  test('HTTP/1.0 closes unless it asks for keep-alive', async () => {
    const { port } = await serve(textApp('ok'));
    const closing = await RawClient.connect(port);
    await closing.write('GET / HTTP/1.0\r\n\r\n');
    expect((await closing.readResponse()).header('connection')).toBe('close');
    await closing.waitEnd();

    const keeping = await RawClient.connect(port);
    await keeping.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const response = await keeping.readResponse();
    expect(response.header('connection')).toBe('keep-alive');
    expect(response.header('keep-alive')).toBe('timeout=600');
    await keeping.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await keeping.readResponse()).status).toBe(200);
    keeping.destroy();
  });

  test('25 pipelined requests are answered in order, and the batch leaves in few writes', async () => {
    const app: GatewayApp = (environ, start) => {
      start('200 OK', []);
      return [environ.PATH_INFO];
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    let reads = 0;
    client.socket.on('data', () => reads++);
    let batch = '';
    for (let i = 0; i < 25; i++) batch += `GET /${i} HTTP/1.1\r\nHost: t\r\n\r\n`;
    await client.write(batch);
    for (let i = 0; i < 25; i++) expect((await client.readResponse()).body.toString()).toBe(`/${i}`);
    // One corked write for the batch; a slow loopback may still split it, but never per response.
    expect(reads).toBeLessThan(5);
    client.destroy();
  });

  test('pipelined requests behind an async app are not lost or reordered', async () => {
    const app: GatewayApp = async (environ, start) => {
      const delay = Number(environ.QUERY_STRING);
      await new Promise((resolve) => setTimeout(resolve, delay));
      start('200 OK', []);
      return [environ.QUERY_STRING];
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write(['30', '0', '10', '0'].map((d) => `GET /?${d} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await client.readResponse()).body.toString());
    expect(bodies).toEqual(['30', '0', '10', '0']);
    client.destroy();
  });

  test('a client that half-closes after its request still gets the response', async () => {
    const { port } = await serve(async (_e, start) => {
      await new Promise((resolve) => setImmediate(resolve));
      start('200 OK', []);
      return ['late'];
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    client.end();
    const response = await client.readResponse();
    expect(response.body.toString()).toBe('late');
    await client.waitEnd();
  });
  test('pipelined requests followed by a half-close are all answered, then the connection closes', async () => {
    const { port } = await serve(async (environ, start) => {
      await new Promise((resolve) => setImmediate(resolve));
      start('200 OK', []);
      return [environ.PATH_INFO];
    });
    const client = await RawClient.connect(port);
    await client.write('GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: t\r\n\r\n');
    client.end();
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await client.readResponse()).body.toString());
    expect(bodies).toEqual(['/1', '/2', '/3']);
    await client.waitEnd();
  });
});

describe('unread request bodies', () => {
  test('a small unread body is drained, never parsed as a request', async () => {
    const { port } = await serve(textApp('ignored the body'));
    const client = await RawClient.connect(port);
    // The body looks like a request; answering it would be a desync.
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n';
    await client.write(`POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${smuggled.length}\r\n\r\n`);
    const first = await client.readResponse();
    expect(first.header('connection')).toBe('keep-alive');
    await client.write(smuggled);
    await client.write('GET /real HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const second = await client.readResponse();
    expect(second.status).toBe(200);
    await client.waitEnd();
    expect(client.pending.length).toBe(0);
  });

  test('an unread body beyond maxDrainSize closes the connection', async () => {
    const { port } = await serve(textApp('no'), { maxDrainSize: 100 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n');
    const response = await client.readResponse();
    expect(response.header('connection')).toBe('close');
    await client.waitEnd();
  });

  test('an unread chunked body is drained up to maxDrainSize, then the connection closes', async () => {
    const { port } = await serve(textApp('no'), { maxDrainSize: 100 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
    const response = await client.readResponse();
    expect(response.header('connection')).toBe('keep-alive');
    await client.write(`c8\r\n${'y'.repeat(200)}\r\n`);
    await client.waitEnd();
  });
});

describe('Expect: 100-continue', () => {
  test('100 Continue is sent when the app reads the body', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n');
    const interim = await client.readResponse();
    expect(interim.head).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await client.write('data');
    const final = await client.readResponse();
    expect(echoOf(final.body).body).toBe('data');
    client.destroy();
  });

  test('no 100 Continue when the app answers without reading; the connection then closes', async () => {
    const { port } = await serve((_e, start) => {
      start('401 Unauthorized', []);
      return ['no'];
    });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(401);
    expect(response.header('connection')).toBe('close');
    await client.waitEnd();
  });

  test('never to HTTP/1.0', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi');
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(echoOf(response.body).body).toBe('hi');
    client.destroy();
  });

  test('another expectation is 417', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: something\r\nContent-Length: 2\r\n\r\nhi');
    expect((await client.readResponse()).status).toBe(417);
    await client.waitEnd();
  });
});

describe("the server's own error responses", () => {
  test('are well-formed, exact, and followed by a close', async () => {
    const { port } = await serve(echoApp, { serverSoftware: '' });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n');
    const all = (await client.readToEnd()).toString('latin1');
    const body = '400 Bad Request: whitespace between a header field name and the colon\n';
    expect(all).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nDate: [^\r\n]+ GMT\r\n/);
    expect(all.endsWith(
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    )).toBe(true);
  });

  test.each([
    ['a request-line over maxRequestLine', 414, `GET /${'a'.repeat(200)} HTTP/1.1\r\nHost: t\r\n\r\n`],
    ['a header section over maxHeaderSize', 431, `GET / HTTP/1.1\r\nHost: t\r\nX: ${'a'.repeat(600)}\r\n\r\n`],
    ['more header fields than maxHeaders', 431, `GET / HTTP/1.1\r\nHost: t\r\n${'X: 1\r\n'.repeat(10)}\r\n`],
    ['an unsupported version', 505, 'GET / HTTP/2.0\r\nHost: t\r\n\r\n'],
    ['a bare LF', 400, 'GET / HTTP/1.1\nHost: t\n\n'],
    ['obs-fold', 400, 'GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n'],
    ['no Host in HTTP/1.1', 400, 'GET / HTTP/1.1\r\n\r\n'],
    ['two Host fields', 400, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', 400, 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['an unknown transfer coding', 501, 'POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['CONNECT', 501, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    ['a TLS handshake on a plain port', 400, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
  ])('%s gets %i and a close', async (_name, status, request) => {
    const { port } = await serve(echoApp, { maxRequestLine: 100, maxHeaderSize: 512, maxHeaders: 5 });
    const client = await RawClient.connect(port);
    await client.write(request);
    const response = await client.readResponse();
    expect(response.status).toBe(status);
    expect(response.header('connection')).toBe('close');
    expect(Number(response.header('content-length'))).toBe(response.body.length);
    await client.waitEnd();
  });

  test('a malformed percent-escape in the path reaches the app, the escape kept in PATH_INFO', async () => {
    const { port } = await serve(echoApp);
    const client = await RawClient.connect(port);
    for (const [target, path] of [['/a%zz', '/a%zz'], ['/%', '/%'], ['/%41%2/%2f', '/A%2/%2F']]) {
      await client.write(`GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`);
      const response = await client.readResponse();
      expect(response.status).toBe(200);
      const echo = JSON.parse(response.body.toString()) as Echo;
      expect(echo.environ).toMatchObject({ PATH_INFO: path, REQUEST_URI: target });
    }
    client.destroy();
  });

  test('a valid request, then garbage: the first is answered, then 400 and close', async () => {
    const { port } = await serve(textApp('fine'));
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n\x00garbage\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('fine');
    expect((await client.readResponse()).status).toBe(400);
    await client.waitEnd();
  });

  test('other connections are not disturbed by a bad one', async () => {
    const { port } = await serve(textApp('fine'));
    const good = await RawClient.connect(port);
    const bad = await RawClient.connect(port);
    await bad.write('GET / HTTP/1.1\r\nHost: t\r\nX: \x01\r\n\r\n');
    await good.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await bad.readResponse()).status).toBe(400);
    expect((await good.readResponse()).body.toString()).toBe('fine');
    await good.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await good.readResponse()).body.toString()).toBe('fine');
    good.destroy();
  });
});

describe('timeouts', () => {
  test('a client that stops in the middle of the head gets 408 and is closed', async () => {
    const { port } = await serve(textApp('x'), { socketTimeout: 0.2 });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHo');
    const response = await client.readResponse();
    expect(response.status).toBe(408);
    await client.waitEnd();
  });

  test('a connection that never sends a byte is closed after socketTimeout, without a response', async () => {
    const { port } = await serve(textApp('x'), { socketTimeout: 0.2 });
    const client = await RawClient.connect(port);
    expect((await client.readToEnd()).length).toBe(0);
  });

  test('an idle keep-alive connection is closed after timeout', async () => {
    const { port } = await serve(textApp('x'), { timeout: 0.3 });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const started = Date.now();
    expect((await client.readResponse()).status).toBe(200);
    await client.waitEnd();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('a body that stops arriving while the app waits for it is 408', async () => {
    const { port } = await serve(echoApp, { socketTimeout: 0.2 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc');
    const response = await client.readResponse();
    expect(response.status).toBe(408);
    expect(response.body.toString()).toMatch(/body did not arrive in time/);
    await client.waitEnd();
  });
});
