/**
 * Options that change how connections and their responses are managed: the protocol the server
 * speaks, which Connection header fields it sends, when 100 Continue goes out, Host, the number of
 * idle connections, 408 for silent connections — and limits changed on a running server.
 */

import { describe, expect, test } from 'vitest';
import type { GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { serve } from '../helpers/server.js';

const text: GatewayApp = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  if (environ.PATH_INFO === '/stream') return (function* () { yield 'a'; yield 'b'; })();
  return ['ok'];
};

describe('protocol: HTTP/1.0', () => {
  test('every status line says HTTP/1.0; a streamed body is close-delimited, never chunked', async () => {
    const { port } = await serve(text, { protocol: 'HTTP/1.0' });
    const client = await RawClient.connect(port);
    await client.write('GET /stream HTTP/1.1\r\nHost: t\r\n\r\n');
    const response = await client.readResponse();
    expect(response.statusLine).toBe('HTTP/1.0 200 OK');
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.framing).toBe('close');
    expect(response.body.toString()).toBe('ab');
  });

  test('a connection persists only when the client asks, whatever its version', async () => {
    const { port } = await serve(text, { protocol: 'HTTP/1.0' });
    let client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).header('connection')).toBe('close');
    await client.waitEnd();
    client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive\r\n\r\n');
    expect((await client.readResponse()).header('connection')).toBe('keep-alive');
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
  });

  test("the server's own refusals say HTTP/1.0 too", async () => {
    const { port } = await serve(text, { protocol: 'HTTP/1.0' });
    const client = await RawClient.connect(port);
    await client.write('GET /a b HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).statusLine).toBe('HTTP/1.0 400 Bad Request');
  });
});

describe("connectionHeaders: 'minimal'", () => {
  test('HTTP/1.1: nothing while the connection persists, Connection: close when it ends', async () => {
    const { port } = await serve(text, { connectionHeaders: 'minimal', timeout: 7 });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const kept = await client.readResponse();
    expect(kept.header('connection')).toBeUndefined();
    expect(kept.header('keep-alive')).toBeUndefined();
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect((await client.readResponse()).header('connection')).toBe('close');
    await client.waitEnd();
  });

  test('HTTP/1.0: Connection: Keep-Alive with the timeout when kept, nothing when closed', async () => {
    const { port } = await serve(text, { connectionHeaders: 'minimal', timeout: 7 });
    let client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n');
    const kept = await client.readResponse();
    expect(kept.header('connection')).toBe('Keep-Alive');
    expect(kept.header('keep-alive')).toBe('timeout=7');
    client.destroy();
    client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.0\r\n\r\n');
    const closed = await client.readResponse();
    expect(closed.header('connection')).toBeUndefined();
    await client.waitEnd();
  });
});

describe('eagerContinue', () => {
  test('100 Continue goes out before the app runs; an unread body is drained and the connection kept', async () => {
    let calls = 0;
    const app: GatewayApp = (_environ, start) => {
      calls++;
      start('401 Unauthorized', [['Content-Length', '0']]);
      return [];
    };
    const { port } = await serve(app, { eagerContinue: true });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    // The interim response comes whatever the app does; the client then sends the body.
    await client.waitBytes('HTTP/1.1 100 Continue\r\n\r\n'.length);
    await client.write('hello');
    const response = await client.readResponse();
    expect(response.statusLine).toBe('HTTP/1.1 100 Continue');
    expect((await client.readResponse()).status).toBe(401);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).status).toBe(401);
    expect(calls).toBe(2);
    client.destroy();
  });

  test('without it, no 100 is sent to an app that answers without reading', async () => {
    const app: GatewayApp = (_environ, start) => {
      start('401 Unauthorized', [['Content-Length', '0']]);
      return [];
    };
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(401);
    expect(response.header('connection')).toBe('close');
  });
});

describe('requireHost: false', () => {
  test('an HTTP/1.1 request without Host is served; two Host fields are still refused', async () => {
    const { port } = await serve(text, { requireHost: false });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    await client.write('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect((await client.readResponse()).status).toBe(400);
  });
});

describe('maxIdleConnections', () => {
  test('a response that would make one idle connection too many closes its connection', async () => {
    const { server, port } = await serve(text, { maxIdleConnections: 2 });
    const clients: RawClient[] = [];
    for (let i = 0; i < 2; i++) {
      const client = await RawClient.connect(port);
      await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
      expect((await client.readResponse()).header('connection')).toBe('keep-alive');
      clients.push(client);
    }
    await expect.poll(() => server.stats().connections.idle).toBe(2);
    const third = await RawClient.connect(port);
    await third.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await third.readResponse()).header('connection')).toBe('close');
    await third.waitEnd();
    // The kept ones still serve.
    await clients[0]!.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await clients[0]!.readResponse()).status).toBe(200);
    for (const client of clients) client.destroy();
  });
});

describe('idle408', () => {
  test('a connection that sends nothing gets 408 before it closes; without the option it just closes', async () => {
    const answered = await serve(text, { idle408: true, socketTimeout: 0.2 });
    let client = await RawClient.connect(answered.port);
    const response = await client.readResponse();
    expect(response.status).toBe(408);
    await client.waitEnd();
    const silent = await serve(text, { socketTimeout: 0.2 });
    client = await RawClient.connect(silent.port);
    expect((await client.readToEnd()).length).toBe(0);
  });

  test('a keep-alive connection idle past timeout is closed silently all the same', async () => {
    const { port } = await serve(text, { idle408: true, timeout: 0.2 });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    expect((await client.readToEnd()).length).toBe(0);
  });
});

describe('limits changed on a running server', () => {
  test('maxHeaderSize, maxBodySize and requireHost apply from the next request', async () => {
    const { server, port } = await serve(text);
    const client = await RawClient.connect(port);
    await client.write(`GET / HTTP/1.1\r\nHost: t\r\nX: ${'a'.repeat(2000)}\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
    (server.options as { maxHeaderSize: number }).maxHeaderSize = 1000;
    await client.write(`GET / HTTP/1.1\r\nHost: t\r\nX: ${'a'.repeat(2000)}\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(431);
    (server.options as { maxBodySize: number }).maxBodySize = 3;
    const other = await RawClient.connect(port);
    await other.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello');
    expect((await other.readResponse()).status).toBe(413);
    (server.options as { requireHost: boolean }).requireHost = false;
    const third = await RawClient.connect(port);
    await third.write('GET / HTTP/1.1\r\n\r\n');
    expect((await third.readResponse()).status).toBe(200);
    third.destroy();
  });

  test('a complete response is still sent when the unread body behind it turns out too large', async () => {
    const { port } = await serve(text, { maxBodySize: 3 });
    const client = await RawClient.connect(port);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    await client.waitEnd();
  });
});

describe('bodies', () => {
  test('a list body longer than its Content-Length is a 500 that says so, before anything is sent', async () => {
    const app: GatewayApp = (_environ, start) => {
      start('200 OK', [['Content-Length', '5']]);
      return ['I have too many bytes'];
    };
    const { port, logs } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const response = await client.readResponse();
    expect(response.status).toBe(500);
    expect(response.body.toString()).toContain('The requested resource returned more bytes than the declared Content-Length.');
    expect(logs.some((l) => l.level === 'error' && /ROCKET_ERR_RESPONSE_LENGTH/.test(l.message))).toBe(true);
  });

  test("what a body's close() writes is part of the body", async () => {
    const app: GatewayApp = (_environ, start) => {
      const write = start('200 OK', []);
      return {
        *[Symbol.iterator]() {
          yield 'one ';
        },
        close() {
          write('two');
        },
      };
    };
    const { port, logs } = await serve(app);
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('one two');
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});
