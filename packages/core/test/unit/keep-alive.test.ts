/**
 * The server's half of keep-alive (src/engine/keep-alive.ts): when another request is allowed on
 * a connection, and the 503s for requests pipelined past maxRequestsPerConnection, written on a
 * real loopback socket.
 */

import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { allowsAnotherRequest, pastRequestLimit, refusePastLimit, type KeepAliveServer } from '../../src/engine/keep-alive.js';
import { Output } from '../../src/engine/output.js';
import { ReadBuffer } from '../../src/engine/read-buffer.js';
import type { ConnectionInfo } from '../../src/gateway/environ.js';
import { HeadScan, parseRequestHead, type RequestHead } from '../../src/http/request-head.js';
import { LogChannels } from '../../src/observability/logging.js';
import { RequestMetrics } from '../../src/observability/metrics.js';
import { resolveOptions } from '../../src/options.js';

function head(text: string): RequestHead {
  const bytes = Buffer.from(text, 'latin1');
  return parseRequestHead(bytes, 0, bytes.length, { maxRequestLine: 8190, maxHeaderSize: 65536, maxHeaders: 100 }, new HeadScan())!;
}

const GET_11 = head('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
const GET_10 = head('GET / HTTP/1.0\r\n\r\n');
const GET_10_KEEP = head('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
const GET_11_CLOSE = head('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');

function server(overrides: { stopping?: boolean; maxRequestsPerConnection?: number; maxIdleConnections?: number; idle?: number } = {}): KeepAliveServer & { asked: number } {
  const s = {
    asked: 0,
    stopping: overrides.stopping ?? false,
    options: { maxRequestsPerConnection: overrides.maxRequestsPerConnection ?? 0, maxIdleConnections: overrides.maxIdleConnections ?? 0 },
    idleConnections() {
      s.asked++;
      return overrides.idle ?? 0;
    },
  };
  return s;
}

describe('allowsAnotherRequest', () => {
  test('the request asks: HTTP/1.1 unless Connection: close, HTTP/1.0 only with Connection: keep-alive', () => {
    expect(allowsAnotherRequest(server(), GET_11, 11, 0, false, false)).toBe(true);
    expect(allowsAnotherRequest(server(), GET_11_CLOSE, 11, 0, false, false)).toBe(false);
    expect(allowsAnotherRequest(server(), GET_10, 11, 0, false, false)).toBe(false);
    expect(allowsAnotherRequest(server(), GET_10_KEEP, 11, 0, false, false)).toBe(true);
  });

  test('a server speaking HTTP/1.0 keeps a connection only when the client asks', () => {
    expect(allowsAnotherRequest(server(), GET_11, 10, 0, false, false)).toBe(false);
    expect(allowsAnotherRequest(server(), GET_10_KEEP, 10, 0, false, false)).toBe(true);
  });

  test('the server refuses while it stops, when the connection retires, or when the client shut its side with nothing left', () => {
    expect(allowsAnotherRequest(server({ stopping: true }), GET_11, 11, 0, false, false)).toBe(false);
    expect(allowsAnotherRequest(server(), GET_11, 11, 0, true, false)).toBe(false);
    expect(allowsAnotherRequest(server(), GET_11, 11, 0, false, true)).toBe(false);
  });

  test('maxRequestsPerConnection: the last allowed request closes the connection', () => {
    expect(allowsAnotherRequest(server({ maxRequestsPerConnection: 3 }), GET_11, 11, 1, false, false)).toBe(true);
    expect(allowsAnotherRequest(server({ maxRequestsPerConnection: 3 }), GET_11, 11, 2, false, false)).toBe(false);
  });

  test('maxIdleConnections: at the limit the connection closes; the idle ones are counted only when all else allows', () => {
    const full = server({ maxIdleConnections: 2, idle: 2 });
    expect(allowsAnotherRequest(full, GET_11, 11, 0, false, false)).toBe(false);
    expect(full.asked).toBe(1);
    expect(allowsAnotherRequest(server({ maxIdleConnections: 2, idle: 1 }), GET_11, 11, 0, false, false)).toBe(true);
    const closing = server({ maxIdleConnections: 2, idle: 0 });
    expect(allowsAnotherRequest(closing, GET_11_CLOSE, 11, 0, false, false)).toBe(false);
    expect(closing.asked).toBe(0);
  });
});

describe('pastRequestLimit', () => {
  test('only with a limit, reached, and something received after it', () => {
    const input = new ReadBuffer();
    expect(pastRequestLimit(1, 1, input)).toBe(false);
    input.append(Buffer.from('GET'));
    expect(pastRequestLimit(0, 5, input)).toBe(false);
    expect(pastRequestLimit(2, 1, input)).toBe(false);
    expect(pastRequestLimit(2, 2, input)).toBe(true);
  });
});

describe('refusePastLimit', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  test('each whole request received gets a 503; a request with a body ends the run, and a partial head is left', async () => {
    const listener = net.createServer();
    servers.push(listener);
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
    const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
    sockets.push(client);
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    const received = once(client, 'end').then(() => Buffer.concat(chunks).toString('latin1'));
    const [socket] = await accepted;
    sockets.push(socket);

    const options = resolveOptions({ serverSoftware: 'Test' });
    const metrics = new RequestMetrics();
    const context = { options, headLimits: options, metrics, logs: new LogChannels(options.logger, {}, 'error'), accessLine: () => null };
    const info = { id: 1, remoteAddress: '127.0.0.1' } as unknown as ConnectionInfo;
    const input = new ReadBuffer();
    const pipelined = 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\nPOST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /d HTTP/1.1\r\n\r\n';
    input.append(Buffer.from(pipelined, 'latin1'));
    refusePastLimit(input, new Output(socket), context, info, Date.now());
    expect(input.buf!.toString('latin1', input.start, input.end)).toBe('abcGET /d HTTP/1.1\r\n\r\n');
    expect(metrics.total).toBe(3);

    const partial = new ReadBuffer();
    partial.append(Buffer.from('GET /e HTTP/1.1\r\nHo', 'latin1'));
    refusePastLimit(partial, new Output(socket), context, info, Date.now());
    expect(partial.length).toBe(19);
    socket.end();

    const text = await received;
    const statuses = text.match(/^HTTP\/1\.1 \d+/gm);
    expect(statuses).toEqual(['HTTP/1.1 503', 'HTTP/1.1 503', 'HTTP/1.1 503']);
    expect(text.match(/^Connection: close\r$/gim)).toHaveLength(3);
    // The HEAD request's 503 has no body; the others do.
    const [, second] = text.split(/(?=HTTP\/1\.1 503)/);
    expect(second!.endsWith('\r\n\r\n')).toBe(true);
  });
});
