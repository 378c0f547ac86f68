/**
 * Orchestrator support on real sockets: readiness and liveness through a stop with a drain delay,
 * PROXY headers that come late or wrong, the PROXY protocol on a TLS interface, UNIX socket modes.
 */

import { once } from 'node:events';
import { mkdtempSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { describe, expect, test } from 'vitest';
import type { GatewayApp } from '@rocketserver/core';
import { makeCerts } from '../helpers/certs.js';
import { serve } from '../helpers/server.js';

const remoteApp: GatewayApp = (environ, startResponse) => {
  const body = `${environ.REMOTE_ADDR} ${environ.REMOTE_PORT} ${environ['wsgi.url_scheme']}`;
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]]);
  return [body];
};

async function exchange(connect: () => net.Socket, data: string | Buffer): Promise<string> {
  const socket = connect();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.write(data);
  await once(socket, 'close');
  return received;
}

describe('readiness, liveness and drainDelay', () => {
  test('a stop flips readiness to 503 at once, keeps serving for the delay, liveness stays 200', async () => {
    const { server, port } = await serve(remoteApp, { readinessPath: '/ready', livenessPath: '/alive', drainDelay: 0.6 });
    const url = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${url}/ready`)).text()).toBe('ready\n');
    const stopped = server.stop();
    const ready = await fetch(`${url}/ready`);
    expect([ready.status, await ready.text()]).toEqual([503, 'draining\n']);
    expect(ready.headers.get('connection')).toBe('close');
    const alive = await fetch(`${url}/alive`);
    expect([alive.status, await alive.text()]).toEqual([200, 'alive\n']);
    expect((await fetch(`${url}/`)).status).toBe(200);
    await stopped;
    await expect(fetch(`${url}/`)).rejects.toThrow();
    // A new start is ready again.
    await server.start();
    expect((await fetch(`http://127.0.0.1:${server.addresses[0]!.port}/ready`)).status).toBe(200);
  });
});

describe('PROXY protocol', () => {
  test('a header that does not come within the timeout closes the connection without a response', async () => {
    const { port } = await serve(remoteApp, { proxyProtocol: 'v1', socketTimeout: 0.3 });
    const started = Date.now();
    expect(await exchange(() => net.connect(port, '127.0.0.1'), 'PROXY TCP4 ')).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('a malformed header, or plain HTTP from an allowed peer, closes without a response', async () => {
    const { port } = await serve(remoteApp, { proxyProtocol: 'auto' });
    expect(await exchange(() => net.connect(port, '127.0.0.1'), 'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n')).toBe('');
    expect(await exchange(() => net.connect(port, '127.0.0.1'), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
  });

  test('peers outside proxyAllowIps are served without a header, refused with one', async () => {
    const { port } = await serve(remoteApp, { proxyProtocol: 'v1', proxyAllowIps: '10.0.0.0/8' });
    const plain = await exchange(() => net.connect(port, '127.0.0.1'), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(plain).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n127\.0\.0\.1 \d+ http$/);
    expect(await exchange(() => net.connect(port, '127.0.0.1'), 'PROXY TCP4 6.6.6.6 1.1.1.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
  });

  test('v1 and v2 headers, bytes after them in the same packet, a LOCAL health check, the access log', async () => {
    const { port, logs } = await serve(remoteApp, { proxyProtocol: 'auto', accessLog: 'common' });
    const request = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const v1 = await exchange(() => net.connect(port, '127.0.0.1'), `PROXY TCP6 2001:db8::17 ::1 4719 80\r\n${request}`);
    expect(v1).toMatch(/\r\n\r\n2001:db8::17 4719 http$/);
    const local = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]);
    const checked = await exchange(() => net.connect(port, '127.0.0.1'), Buffer.concat([local, Buffer.from(request)]));
    expect(checked).toMatch(/\r\n\r\n127\.0\.0\.1 \d+ http$/);
    expect(logs.some((line) => line.channel === 'Rocket.Requests' && line.message.startsWith('2001:db8::17 - - '))).toBe(true);
  });

  test('on a TLS interface the header comes before the handshake', async () => {
    const certs = makeCerts();
    const { port } = await serve(remoteApp, { proxyProtocol: 'v1' }, ['127.0.0.1', 0, certs.serverKey, certs.serverCert]);
    const raw = net.connect(port, '127.0.0.1');
    await once(raw, 'connect');
    raw.write('PROXY TCP4 198.51.100.4 127.0.0.1 5555 443\r\n');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    const body = await exchange(() => secure, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(body).toMatch(/\r\n\r\n198\.51\.100\.4 5555 https$/);
  });
});

test('unixSocketMode sets the mode of a UNIX socket interface', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'rocket-unix-')), 'app.sock');
  await serve(remoteApp, { unixSocketMode: 0o660 }, path);
  expect(statSync(path).mode & 0o777).toBe(0o660);
  const answer = await exchange(() => net.connect(path), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
});
