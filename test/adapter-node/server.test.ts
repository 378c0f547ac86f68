/**
 * createServer(): the surface of http.createServer(), served by Rocket — listen forms, addresses,
 * events, close and its friends, the timeout properties, supertest.
 */

import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { createServer, type RocketServer } from '@rocketserver/adapter-node';
import { RawClient } from '../../packages/core/test/helpers/raw-client.js';

const servers: (RocketServer | http.Server)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    if (server.listening) await new Promise((resolve) => server.close(() => resolve(undefined)));
  }
});

function track<T extends RocketServer | http.Server>(server: T): T {
  servers.push(server);
  return server;
}

const hello = (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('hello');
};

describe('listen', () => {
  test('is an http.Server, and listen(0) knows its port before it returns (as node:http does)', async () => {
    const server = track(createServer(hello));
    expect(server).toBeInstanceOf(http.Server);
    expect(server.address()).toBeNull();
    expect(server.listening).toBe(false);
    const returned = server.listen(0);
    expect(returned).toBe(server);
    const address = server.address() as net.AddressInfo;
    expect(address.port).toBeGreaterThan(0);
    await once(server, 'listening');
    expect(server.listening).toBe(true);
    const response = await fetch(`http://127.0.0.1:${address.port}/`);
    expect(await response.text()).toBe('hello');
  });

  test.each([
    ['(port, host, cb)', (s: RocketServer, cb: () => void) => s.listen(0, '127.0.0.1', cb)],
    ['(options, cb)', (s: RocketServer, cb: () => void) => s.listen({ port: 0, host: '127.0.0.1' }, cb)],
    ['(port, cb)', (s: RocketServer, cb: () => void) => s.listen(0, cb)],
    ['(cb)', (s: RocketServer, cb: () => void) => s.listen(cb)],
  ])('listen%s calls back once listening', async (_name, call) => {
    const server = track(createServer(hello));
    await new Promise<void>((resolve) => call(server, resolve));
    expect(server.listening).toBe(true);
    const { port } = server.address() as net.AddressInfo;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello');
  });

  test("a port in use emits 'error' with EADDRINUSE, and the server can listen again", async () => {
    const blocker = track(http.createServer().listen(0, '127.0.0.1'));
    await once(blocker, 'listening');
    const { port } = blocker.address() as net.AddressInfo;
    const server = track(createServer(hello));
    server.listen(port, '127.0.0.1');
    const [error] = (await once(server, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('EADDRINUSE');
    expect(server.listening).toBe(false);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  test('listen twice throws ERR_SERVER_ALREADY_LISTEN', async () => {
    const server = track(createServer(hello).listen(0, '127.0.0.1'));
    expect(() => server.listen(0)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
    await once(server, 'listening');
  });
});

describe('close', () => {
  test("closes idle keep-alive connections at once, then emits 'close'", async () => {
    const server = track(createServer(hello).listen(0, '127.0.0.1'));
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.readResponse();
    const closed = once(server, 'close');
    const started = Date.now();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    await closed;
    await client.waitEnd();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.listening).toBe(false);
    expect(server.address()).toBeNull();
  });

  test('close() of a server that is not listening calls back with ERR_SERVER_NOT_RUNNING', async () => {
    const server = createServer(hello);
    const error = await new Promise((resolve) => server.close(resolve));
    expect(error).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
  });

  test('closeAllConnections() ends requests in flight; closeIdleConnections() only idle ones', async () => {
    let hold!: () => void;
    const held = new Promise<void>((resolve) => (hold = resolve));
    const server = track(
      createServer(async (req, res) => {
        if (req.url === '/wait') await held;
        res.end('ok');
      }).listen(0, '127.0.0.1'),
    );
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const idle = await RawClient.connect(port);
    await idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.readResponse();
    const busy = await RawClient.connect(port);
    await busy.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => server.rocket!.stats().connections.active).toBe(1);
    server.closeIdleConnections();
    await idle.waitEnd();
    expect(busy.ended).toBe(false);
    server.closeAllConnections();
    await busy.waitEnd();
    hold();
  });

  test('getConnections() counts open connections', async () => {
    const server = track(createServer(hello).listen(0, '127.0.0.1'));
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.readResponse();
    const count = await new Promise((resolve) => server.getConnections((_error, n) => resolve(n)));
    expect(count).toBe(1);
    client.destroy();
  });
});

describe('the node:http properties', () => {
  test('keepAliveTimeout is sent as the Keep-Alive hint and can change while listening', async () => {
    const server = track(createServer(hello));
    server.keepAliveTimeout = 7000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    let response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.headers.get('keep-alive')).toBe('timeout=7');
    server.keepAliveTimeout = 61_000;
    response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.headers.get('keep-alive')).toBe('timeout=61');
  });

  test('maxRequestsPerSocket: the last allowed response says Connection: close', async () => {
    const server = track(createServer(hello));
    server.maxRequestsPerSocket = 2;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await client.readResponse()).header('connection')).toBe('keep-alive');
    expect((await client.readResponse()).header('connection')).toBe('close');
    await client.waitEnd();
  });

  test("setTimeout(ms, cb): an inactive request times out with 'timeout' on the server", async () => {
    const server = track(createServer(() => {}));
    const timedOut = new Promise((resolve) => server.setTimeout(100, (socket) => resolve(socket)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const socket = (await timedOut) as { destroy(): void };
    socket.destroy();
    await client.waitEnd();
  });

  test('without a timeout listener, a request inactive past server.timeout is destroyed', async () => {
    const server = track(createServer(() => {}));
    server.timeout = 100;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.waitEnd();
  });
});

describe('events', () => {
  test("'checkContinue' gets Expect: 100-continue requests when someone listens", async () => {
    const server = track(createServer(() => {}));
    server.on('checkContinue', (req, res) => {
      res.writeContinue();
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => res.end(`got ${body}`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n');
    expect((await client.readResponse()).status).toBe(100);
    await client.write('abc');
    expect((await client.readResponse()).body.toString()).toBe('got abc');
    client.destroy();
  });

  test("the 'request' listeners are looked up at request time", async () => {
    const server = track(createServer(hello).listen(0, '127.0.0.1'));
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    server.removeAllListeners('request');
    server.on('request', (_req, res) => res.end('replaced'));
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('replaced');
  });

  test("'upgrade' gets the socket and the bytes after the head", async () => {
    const server = track(createServer(hello));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      expect(req.headers.upgrade).toBe('echo');
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.write(`head:${head.toString()}|`);
      socket.on('data', (chunk) => socket.write(chunk));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\nhi');
    await expect.poll(() => client.pending.toString()).toContain('head:hi|');
    await client.write('more');
    await expect.poll(() => client.pending.toString()).toContain('more');
    client.destroy();
  });

  test('without an upgrade listener an Upgrade request is an ordinary request', async () => {
    const server = track(createServer(hello).listen(0, '127.0.0.1'));
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: upgrade\r\n\r\n');
    expect((await client.readResponse()).body.toString()).toBe('hello');
    client.destroy();
  });
});

describe('supertest', () => {
  test('request(server) on a server that is not listening', async () => {
    const server = createServer(hello);
    const response = await request(server).get('/').expect(200);
    expect(response.text).toBe('hello');
    expect(server.listening).toBe(false);
  });

  test('request(server) on a listening server', async () => {
    const server = track(createServer(hello).listen(0, '127.0.0.1'));
    await once(server, 'listening');
    await request(server).get('/').expect(200, 'hello');
  });
});

describe("'clientError'", () => {
  type Seen = { code: string; bytes: string; closed: boolean };

  /** One malformed request on `server` whose 'clientError' listener answers as Node's docs show. */
  async function refuse(server: http.Server, text: string): Promise<Seen> {
    const codes: string[] = [];
    server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
      codes.push(error.code ?? '');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nX-Answered-By: listener\r\n\r\n');
      else socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write(text);
    const bytes = (await client.readToEnd()).toString('latin1');
    return { code: codes.join(','), bytes, closed: true };
  }

  test.each([
    ['an invalid method', 'G@T / HTTP/1.1\r\nHost: t\r\n\r\n'],
    ['a header section over 16 KiB', `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`],
    ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : t\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ])('%s: the listener answers with its own bytes, as on node:http', async (_name, text) => {
    let reached = false;
    const app = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      reached = true;
      res.end();
    };
    const node = await refuse(track(http.createServer(app)), text);
    const rocket = await refuse(track(createServer(app)), text);
    expect(reached).toBe(false);
    expect(rocket.bytes).toBe('HTTP/1.1 400 Bad Request\r\nX-Answered-By: listener\r\n\r\n');
    expect(rocket).toEqual(node);
  });

  test('the error carries what was received, and the status Rocket would have sent', async () => {
    const server = track(createServer(hello));
    const errors: Record<string, unknown>[] = [];
    server.on('clientError', (error: Record<string, unknown>, socket: net.Socket) => {
      errors.push(error);
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n');
    expect((await client.readToEnd()).length).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', status: 400, rocketCode: 'ROCKET_ERR_BAD_HEADER' });
    expect(String(errors[0]!.rawPacket)).toContain('Bad Header: x');
  });

  test('without a listener Rocket answers itself; a listener that never ends is closed after socketTimeout', async () => {
    const plain = track(createServer(hello));
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    let client = await RawClient.connect((plain.address() as net.AddressInfo).port);
    await client.write('G@T / HTTP/1.1\r\n\r\n');
    expect((await client.readResponse()).status).toBe(400);

    const silent = track(createServer({ rocket: { socketTimeout: 0.2 } }, hello));
    let heard = 0;
    silent.on('clientError', () => heard++);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    client = await RawClient.connect((silent.address() as net.AddressInfo).port);
    await client.write('G@T / HTTP/1.1\r\n\r\n');
    expect((await client.readToEnd()).length).toBe(0);
    expect(heard).toBe(1);
    await expect.poll(() => silent.rocket?.stats().connections.open).toBe(0);
  });
});

describe('the socket of a connection', () => {
  test("is one object for every request of a keep-alive connection; its bytesWritten grows by what the client read; 'close' comes when the connection closes", async () => {
    const sockets: net.Socket[] = [];
    const written: number[] = [];
    const server = track(
      createServer((req, res) => {
        sockets.push(req.socket);
        written.push(req.socket.bytesWritten);
        res.setHeader('Content-Type', 'text/plain');
        res.end('hello');
      }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const client = await RawClient.connect(port);
    await client.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    const first = await client.readResponse();
    await client.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const second = await client.readResponse();
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(sockets).toHaveLength(2);
    expect(sockets[1]).toBe(sockets[0]);
    // Before the second response, the socket had written exactly the first response's bytes.
    expect(written).toEqual([0, Buffer.byteLength(first.head) + first.body.length]);
    const closed = once(sockets[0]!, 'close');
    client.destroy();
    await closed;
    expect(sockets[0]!.destroyed).toBe(true);
  });
});
