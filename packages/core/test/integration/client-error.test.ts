/**
 * The onClientError hook: a request refused before any app saw it may be answered by the
 * operator's code instead of Rocket's own error response.
 */

import { describe, expect, test } from 'vitest';
import { HttpError, Rocket, RocketError, type ClientErrorReply } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { echoApp, serve } from '../helpers/server.js';

describe('onClientError', () => {
  test('the hook answers instead of Rocket; the app never runs; other connections are served', async () => {
    const seen: { status: number; code: string; received: string; remote: string }[] = [];
    let appCalls = 0;
    const { port } = await serve(
      (environ, start) => {
        appCalls++;
        return echoApp(environ, start);
      },
      {
        onClientError: (error: HttpError, reply: ClientErrorReply) => {
          seen.push({ status: error.status, code: error.code, received: reply.received.toString('latin1'), remote: reply.info.remoteAddress });
          reply.write('HTTP/1.1 418 Refused\r\n');
          reply.end('Content-Length: 0\r\n\r\n');
          return true;
        },
      },
    );
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n');
    expect((await client.readToEnd()).toString('latin1')).toBe('HTTP/1.1 418 Refused\r\nContent-Length: 0\r\n\r\n');
    expect(seen).toEqual([{ status: 400, code: 'ROCKET_ERR_BAD_HEADER', received: 'GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n', remote: '127.0.0.1' }]);
    expect(appCalls).toBe(0);
    const other = await RawClient.connect(port);
    await other.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await other.readResponse()).status).toBe(200);
    other.destroy();
  });

  test('false, or a hook that throws, leaves the answer to Rocket (the throw is logged)', async () => {
    let calls = 0;
    const { port, logs } = await serve(echoApp, {
      onClientError: () => {
        calls++;
        if (calls === 2) throw new Error('hook broke');
        return false;
      },
    });
    for (const expected of [1, 2]) {
      const client = await RawClient.connect(port);
      await client.write('GET /a b HTTP/1.1\r\nHost: t\r\n\r\n');
      expect((await client.readResponse()).status).toBe(400);
      expect(calls).toBe(expected);
      client.destroy();
    }
    expect(logs.some((l) => l.level === 'error' && /onClientError hook threw: .*hook broke/.test(l.message))).toBe(true);
  });

  test('a head that does not arrive in time reaches the hook as a 408; destroy() closes at once', async () => {
    const statuses: number[] = [];
    const { server, port } = await serve(echoApp, {
      headerTimeout: 0.2,
      onClientError: (error: HttpError, reply: ClientErrorReply) => {
        statuses.push(error.status);
        reply.destroy();
        return true;
      },
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n');
    expect((await client.readToEnd()).length).toBe(0);
    expect(statuses).toEqual([408]);
    await expect.poll(() => server.stats().connections.open).toBe(0);
  });

  test('bytes written before destroy() still reach the client (Fastify answers this way)', async () => {
    const { port } = await serve(echoApp, {
      onClientError: (_error: HttpError, reply: ClientErrorReply) => {
        reply.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        reply.destroy();
        return true;
      },
    });
    const client = await RawClient.connect(port);
    await client.write('GET /a b HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readToEnd()).toString('latin1')).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });

  test('503s are never offered: a partial head cut short by stop() is not the client’s fault', async () => {
    let calls = 0;
    const { server, port } = await serve(echoApp, {
      onClientError: () => {
        calls++;
        return true;
      },
    });
    const client = await RawClient.connect(port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n');
    // Open, and no longer idle: the partial head has arrived.
    await expect.poll(() => server.stats().connections).toMatchObject({ open: 1, idle: 0 });
    const stopped = server.stop({ timeout: 1 });
    expect((await client.readResponse()).status).toBe(503);
    await stopped;
    expect(calls).toBe(0);
  });

  test('a value that is not a function is refused by name', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: echoApp }, { onClientError: 'no' as never })).toThrow(RocketError);
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: echoApp }, { onClientError: 'no' as never })).toThrow(/onClientError/);
  });
});
