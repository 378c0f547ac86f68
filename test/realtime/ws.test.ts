/**
 * ws on Rocket: `new WebSocketServer({ server })` and `noServer` + `handleUpgrade` on a Rocket
 * createServer, over plain TCP and TLS — messages of every kind, control frames, extensions,
 * subprotocols, verifyClient, bytes that came with the upgrade request, rejected upgrades,
 * ordinary HTTP alongside, and what the server's close() does to open websockets.
 */

import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer, type ServerOptions } from 'ws';
import type { CreateServerOptions, RocketServer } from '@rocketserver/adapter-node';
import {
  MODES,
  type Mode,
  UPGRADE_ACCEPT,
  clientFrame,
  clientTls,
  deferred,
  httpGet,
  listen,
  makeServer,
  next,
  onCleanup,
  parseServerFrame,
  rawConnect,
  removeCerts,
  runCleanups,
  upgradeRequest,
  within,
  wsUrl,
} from './helpers.js';

afterEach(runCleanups);
afterAll(removeCerts);

interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** Every message a websocket receives, from the moment it is created; reads are bounded. */
class Inbox {
  readonly #queue: Message[] = [];
  #waiter: (() => void) | null = null;

  constructor(ws: WebSocket) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.#queue.push({ data: buf, isBinary });
      this.#waiter?.();
    });
  }

  async next(ms = 5000): Promise<Message> {
    const deadline = Date.now() + ms;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await within(
        new Promise<void>((resolve) => {
          this.#waiter = resolve;
        }),
        'a message',
        left,
      ).finally(() => {
        this.#waiter = null;
      });
    }
    return this.#queue.shift()!;
  }

  async text(ms?: number): Promise<string> {
    const message = await this.next(ms);
    expect(message.isBinary).toBe(false);
    return message.data.toString('utf8');
  }
}

/** A Rocket server with an HTTP listener and `new WebSocketServer({ server, ...options })`. */
async function startWss(mode: Mode, options: Omit<ServerOptions, 'server' | 'port' | 'noServer'> = {}, serverOptions: CreateServerOptions = {}) {
  const server = makeServer(
    mode,
    (req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(`http ok ${req.url}`);
    },
    serverOptions,
  );
  const wss = new WebSocketServer({ server, ...options });
  onCleanup(() => wss.close());
  const port = await listen(server);
  return { server, wss, port };
}

/** The server side of the next connection, as a promise; register before connecting. */
function nextConnection(wss: WebSocketServer): Promise<{ ws: WebSocket; req: http.IncomingMessage; inbox: Inbox }> {
  // The inbox is attached inside the listener: frames that came with the upgrade are emitted on
  // the next tick, before a promise continuation would run.
  return within(
    new Promise((resolve) => {
      wss.once('connection', (ws: WebSocket, req: http.IncomingMessage) => resolve({ ws, req, inbox: new Inbox(ws) }));
    }),
    "wss 'connection'",
  );
}

/** A client, terminated after the test. Inbox attached before anything can arrive. */
function client(mode: Mode, port: number, path = '/', protocols?: string | string[], options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(wsUrl(mode, port, path), protocols, { ...clientTls(mode), ...options });
  onCleanup(() => ws.terminate());
  const inbox = new Inbox(ws);
  const open = next(ws, 'open');
  open.catch(() => {}); // awaited only by those that expect the handshake to succeed
  return { ws, inbox, open };
}

/** Connect a client and wait for both sides. */
async function connect(mode: Mode, wss: WebSocketServer, port: number, path = '/', protocols?: string | string[], options?: WebSocket.ClientOptions) {
  const serverSide = nextConnection(wss);
  const c = client(mode, port, path, protocols, options);
  await c.open;
  return { client: c.ws, inbox: c.inbox, server: await serverSide };
}

/** The error a client gets when the handshake fails. */
async function handshakeError(mode: Mode, port: number, path: string, protocols?: string | string[]): Promise<Error> {
  const { ws } = client(mode, port, path, protocols);
  const [error] = await next<[Error]>(ws, 'error');
  return error;
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Echo every message back as it came (text stays text, binary stays binary). */
function echo(ws: WebSocket): void {
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
}

describe.each(MODES)('ws: new WebSocketServer({ server }) on a Rocket server (%s)', (mode) => {
  test('text and binary messages both ways', async () => {
    const { wss, port } = await startWss(mode);
    wss.on('connection', (ws) => {
      ws.send('welcome');
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) ws.send(Buffer.from(data).reverse(), { binary: true });
        else ws.send(`echo:${data.toString()}`);
      });
    });
    const c = client(mode, port);
    await c.open;
    expect(await c.inbox.text()).toBe('welcome');
    c.ws.send('hello, wörld ✓');
    expect(await c.inbox.text()).toBe('echo:hello, wörld ✓');
    c.ws.send(Buffer.from([1, 2, 3, 0, 255]));
    const binary = await c.inbox.next();
    expect(binary.isBinary).toBe(true);
    expect([...binary.data]).toEqual([255, 0, 3, 2, 1]);
    c.ws.send(new Uint8Array(0));
    const empty = await c.inbox.next();
    expect(empty).toMatchObject({ isBinary: true });
    expect(empty.data.length).toBe(0);
  });

  test('a large message (8 MiB) arrives intact both ways', async () => {
    const { wss, port } = await startWss(mode);
    const { client: ws, inbox, server } = await connect(mode, wss, port);
    const payload = randomBytes(8 * 1024 * 1024);
    ws.send(payload);
    const received = await server.inbox.next(10_000);
    expect(received.isBinary).toBe(true);
    expect(received.data.length).toBe(payload.length);
    expect(sha256(received.data)).toBe(sha256(payload));
    server.ws.send(received.data);
    const back = await inbox.next(10_000);
    expect(back.data.length).toBe(payload.length);
    expect(sha256(back.data)).toBe(sha256(payload));
  });

  test('many messages arrive in order, both ways', async () => {
    const { wss, port } = await startWss(mode);
    const { client: ws, inbox, server } = await connect(mode, wss, port);
    echo(server.ws);
    const count = 2000;
    for (let i = 0; i < count; i++) ws.send(i % 3 === 0 ? Buffer.from(`b${i}`) : `t${i}`);
    const got: string[] = [];
    for (let i = 0; i < count; i++) {
      const message = await inbox.next();
      got.push(`${message.isBinary ? 'b' : 't'}${message.data.toString().slice(1)}`);
    }
    expect(got).toEqual(Array.from({ length: count }, (_, i) => `${i % 3 === 0 ? 'b' : 't'}${i}`));
  });

  test('ping and pong, from either side', async () => {
    const { wss, port } = await startWss(mode);
    const { client: ws, server } = await connect(mode, wss, port);
    const pong = next<[Buffer]>(ws, 'pong');
    ws.ping(Buffer.from('client ping'));
    expect((await pong)[0].toString()).toBe('client ping');
    const clientSawPing = next<[Buffer]>(ws, 'ping');
    const serverPong = next<[Buffer]>(server.ws, 'pong');
    server.ws.ping('server ping');
    expect((await clientSawPing)[0].toString()).toBe('server ping');
    expect((await serverPong)[0].toString()).toBe('server ping');
  });

  test('close code and reason from the client', async () => {
    const { wss, port } = await startWss(mode);
    const { client: ws, server } = await connect(mode, wss, port);
    const serverClose = next<[number, Buffer]>(server.ws, 'close');
    const clientClose = next<[number, Buffer]>(ws, 'close');
    ws.close(4001, 'client says bye');
    const [code, reason] = await serverClose;
    expect(code).toBe(4001);
    expect(reason.toString()).toBe('client says bye');
    const [echoedCode] = await clientClose;
    expect(echoedCode).toBe(4001);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  test('close code and reason from the server', async () => {
    const { wss, port } = await startWss(mode);
    const { client: ws, server } = await connect(mode, wss, port);
    const clientClose = next<[number, Buffer]>(ws, 'close');
    const serverClose = next<[number, Buffer]>(server.ws, 'close');
    server.ws.close(4002, 'server says bye');
    const [code, reason] = await clientClose;
    expect(code).toBe(4002);
    expect(reason.toString()).toBe('server says bye');
    expect((await serverClose)[0]).toBe(4002);
  });

  test('permessage-deflate is negotiated and compresses on the wire', async () => {
    const { wss, port } = await startWss(mode, { perMessageDeflate: { threshold: 0 } });
    const { client: ws, inbox, server } = await connect(mode, wss, port);
    expect(ws.extensions).toContain('permessage-deflate');
    expect(server.req.headers['sec-websocket-extensions']).toContain('permessage-deflate');
    echo(server.ws);
    const text = 'compress me please '.repeat(64 * 1024); // ~1.2 MiB
    const socket = (ws as unknown as { _socket: Duplex & { bytesRead: number } })._socket;
    const before = socket.bytesRead;
    ws.send(text);
    expect(await inbox.text(10_000)).toBe(text);
    expect(socket.bytesRead - before).toBeLessThan(text.length / 10);
    ws.send(Buffer.from('small'));
    expect((await inbox.next()).data.toString()).toBe('small');
  });

  test('a subprotocol is negotiated; a client whose protocols are all refused fails', async () => {
    const { wss, port } = await startWss(mode, {
      handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
    });
    const { client: ws, server } = await connect(mode, wss, port, '/', ['chat.v1', 'chat.v2']);
    expect(ws.protocol).toBe('chat.v2');
    expect(server.ws.protocol).toBe('chat.v2');
    expect(server.req.headers['sec-websocket-protocol']).toBe('chat.v1,chat.v2');
    const error = await handshakeError(mode, port, '/', ['other']);
    expect(error.message).toMatch(/subprotocol/i);
  });

  test(`verifyClient sees secure=${mode === 'tls'}, the request and the peer; a refusal is a 401`, async () => {
    const seen: { secure: boolean; origin: string; url: string | undefined; remote: string | undefined; encrypted: boolean }[] = [];
    const { wss, port } = await startWss(mode, {
      verifyClient: (info: { origin: string; secure: boolean; req: http.IncomingMessage }) => {
        seen.push({
          secure: info.secure,
          origin: info.origin,
          url: info.req.url,
          remote: info.req.socket.remoteAddress,
          encrypted: (info.req.socket as { encrypted?: boolean }).encrypted === true,
        });
        return info.req.url !== '/forbidden';
      },
    });
    await connect(mode, wss, port, '/allowed?x=1', undefined, { origin: 'https://example.test' });
    expect(seen).toEqual([{ secure: mode === 'tls', origin: 'https://example.test', url: '/allowed?x=1', remote: '127.0.0.1', encrypted: mode === 'tls' }]);
    const error = await handshakeError(mode, port, '/forbidden');
    expect(error.message).toBe('Unexpected server response: 401');
    expect(seen).toHaveLength(2);
  });

  test('frames sent in the same packet as the upgrade request are not lost (head)', async () => {
    const { server, wss, port } = await startWss(mode);
    const heads: Buffer[] = [];
    server.prependListener('upgrade', (_req: http.IncomingMessage, _socket: Duplex, head: Buffer) => heads.push(Buffer.from(head)));
    const serverSide = nextConnection(wss);
    const raw = await rawConnect(mode, port);
    const frames = Buffer.concat([clientFrame(0x1, Buffer.from('first, with the request')), clientFrame(0x1, Buffer.from('second'))]);
    await raw.write(Buffer.concat([Buffer.from(upgradeRequest('/'), 'latin1'), frames]));
    const response = await raw.readResponse();
    expect(response.status).toBe(101);
    expect(response.header('sec-websocket-accept')).toBe(UPGRADE_ACCEPT);
    const { ws, inbox } = await serverSide;
    expect(await inbox.text()).toBe('first, with the request');
    expect(await inbox.text()).toBe('second');
    // One write on loopback arrives in one read: everything after the head came as `head`.
    expect(heads).toHaveLength(1);
    expect(heads[0]!.equals(frames)).toBe(true);
    // And the connection goes on: the server's frame reaches the raw client, and more client frames reach the server.
    ws.send('from the server');
    await raw.waitBytes(2);
    await expect.poll(() => parseServerFrame(raw.pending)?.payload.toString(), { timeout: 5000 }).toBe('from the server');
    await raw.write(clientFrame(0x1, Buffer.from('third')));
    expect(await inbox.text()).toBe('third');
  });

  test('frames that arrive while the app is still deciding (async verifyClient) are kept', async () => {
    const decided = deferred<{ socket: Duplex & { readableLength: number }; accept: (ok: boolean) => void }>();
    const { wss, port } = await startWss(mode, {
      verifyClient: (info, callback) => decided.resolve({ socket: info.req.socket as Duplex & { readableLength: number }, accept: (ok) => callback(ok) }),
    });
    const serverSide = nextConnection(wss);
    const raw = await rawConnect(mode, port);
    await raw.write(upgradeRequest('/'));
    const { socket, accept } = await within(decided.promise, 'verifyClient');
    const frame = clientFrame(0x2, Buffer.from('sent before the 101'));
    await raw.write(frame);
    // The frame sits in the handed-over socket, unread, until ws takes it.
    await expect.poll(() => socket.readableLength, { timeout: 5000 }).toBe(frame.length);
    accept(true);
    expect((await raw.readResponse()).status).toBe(101);
    const { inbox } = await serverSide;
    const message = await inbox.next();
    expect(message.isBinary).toBe(true);
    expect(message.data.toString()).toBe('sent before the 101');
  });

  test('an upgrade pipelined after a slow HTTP request waits for its response', async () => {
    const release = deferred();
    const arrived = deferred();
    const events: string[] = [];
    const server = makeServer(mode, async (req, res) => {
      events.push(`request ${req.url}`);
      if (req.url === '/first') {
        arrived.resolve();
        await release.promise;
      }
      res.end(`http ok ${req.url}`);
    });
    const wss = new WebSocketServer({ server });
    onCleanup(() => wss.close());
    server.prependListener('upgrade', (req: http.IncomingMessage) => events.push(`upgrade ${req.url}`));
    const port = await listen(server);
    const serverSide = nextConnection(wss);
    const raw = await rawConnect(mode, port);
    await raw.write(
      Buffer.concat([
        Buffer.from('GET /first HTTP/1.1\r\nHost: x\r\n\r\n' + upgradeRequest('/second'), 'latin1'),
        clientFrame(0x1, Buffer.from('after both heads')),
      ]),
    );
    await within(arrived.promise, 'the first request');
    // Give the server a full request on another connection's worth of time to (wrongly) take the upgrade early.
    expect(await httpGet(mode, port, '/other')).toMatchObject({ body: 'http ok /other' });
    events.push('release');
    release.resolve();
    const first = await raw.readResponse();
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe('http ok /first');
    const second = await raw.readResponse();
    expect(second.status).toBe(101);
    expect(second.header('sec-websocket-accept')).toBe(UPGRADE_ACCEPT);
    const { req, inbox } = await serverSide;
    expect(req.url).toBe('/second');
    expect(await inbox.text()).toBe('after both heads');
    expect(events).toEqual(['request /first', 'request /other', 'release', 'upgrade /second']);
  });

  test("HTTP timeouts do not apply to upgraded sockets", async () => {
    const short: CreateServerOptions = { keepAliveTimeout: 100, headersTimeout: 100, requestTimeout: 100, rocket: { socketTimeout: 0.1, headerTimeout: 0.1 } };
    const { server, wss, port } = await startWss(mode, {}, short);
    server.timeout = 100;
    const { client: ws, inbox, server: serverSide } = await connect(mode, wss, port);
    echo(serverSide.ws);
    // Control: an idle keep-alive connection opened after the websocket is closed by those timeouts.
    const idle = await rawConnect(mode, port);
    await idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.readResponse();
    await idle.waitEnd(3000);
    // The websocket, idle for longer than that, is still there.
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.send('alive');
    expect(await inbox.text()).toBe('alive');
  });

  test('ordinary HTTP requests are served alongside open websockets', async () => {
    const { wss, port } = await startWss(mode);
    const { client: ws, inbox, server } = await connect(mode, wss, port);
    echo(server.ws);
    const [a, b] = await Promise.all([httpGet(mode, port, '/a'), httpGet(mode, port, '/b?q=1')]);
    expect(a).toMatchObject({ status: 200, body: 'http ok /a' });
    expect(b).toMatchObject({ status: 200, body: 'http ok /b?q=1' });
    // A keep-alive connection with several requests, while the websocket is busy.
    const raw = await rawConnect(mode, port);
    ws.send('still here');
    await raw.write('GET /k1 HTTP/1.1\r\nHost: x\r\n\r\nGET /k2 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await raw.readResponse()).body.toString()).toBe('http ok /k1');
    expect((await raw.readResponse()).body.toString()).toBe('http ok /k2');
    expect(await inbox.text()).toBe('still here');
  });

  test('an upgrade for a path ws does not serve is answered 400 and closed', async () => {
    const { port } = await startWss(mode, { path: '/ws' });
    const raw = await rawConnect(mode, port);
    await raw.write(upgradeRequest('/elsewhere'));
    const response = await raw.readResponse();
    expect(response.status).toBe(400);
    await raw.waitEnd();
    // An HTTP request (no Upgrade) on that path still reaches the request listener.
    expect(await httpGet(mode, port, '/elsewhere')).toMatchObject({ status: 200, body: 'http ok /elsewhere' });
  });

  test("after the server's close(), open websockets are destroyed and the callback fires promptly", async () => {
    const { server, wss, port } = await startWss(mode);
    const one = await connect(mode, wss, port);
    const two = await connect(mode, wss, port);
    const closes = [one, two].map(({ client: ws }) => next<[number, Buffer]>(ws, 'close'));
    const serverCloses = [one, two].map(({ server: s }) => next<[number, Buffer]>(s.ws, 'close'));
    const closed = deferred<Error | undefined>();
    const started = Date.now();
    server.close((error) => closed.resolve(error));
    expect(await within(closed.promise, 'the close callback', 3000)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.listening).toBe(false);
    // Rocket destroys sockets handed over by an upgrade when it stops: no closing handshake, so 1006.
    for (const [code] of await Promise.all(closes)) expect(code).toBe(1006);
    for (const [code] of await Promise.all(serverCloses)) expect(code).toBe(1006);
    // And nothing listens any more.
    const error = await handshakeError(mode, port, '/');
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});

describe.each(MODES)('ws: noServer mode with handleUpgrade on a Rocket server (%s)', (mode) => {
  async function start(): Promise<{ server: RocketServer; wss: WebSocketServer; port: number; upgrades: string[] }> {
    const server = makeServer(mode, (req, res) => res.end(`http ok ${req.url}`));
    const wss = new WebSocketServer({ noServer: true });
    onCleanup(() => wss.close());
    const upgrades: string[] = [];
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      upgrades.push(req.url!);
      if (req.url === '/ws') {
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      } else {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad upgrade');
      }
    });
    const port = await listen(server);
    return { server, wss, port, upgrades };
  }

  test('handleUpgrade serves websockets; HTTP requests still reach the listener', async () => {
    const { wss, port, upgrades } = await start();
    const { client: ws, inbox, server } = await connect(mode, wss, port, '/ws');
    echo(server.ws);
    expect(server.req.url).toBe('/ws');
    expect(server.req.headers.upgrade).toBe('websocket');
    ws.send('through handleUpgrade');
    expect(await inbox.text()).toBe('through handleUpgrade');
    ws.send(Buffer.from([9, 8, 7]));
    expect([...(await inbox.next()).data]).toEqual([9, 8, 7]);
    expect(await httpGet(mode, port, '/plain')).toMatchObject({ status: 200, body: 'http ok /plain' });
    expect(upgrades).toEqual(['/ws']);
    const closed = next<[number, Buffer]>(ws, 'close');
    server.ws.close(1000, 'done');
    expect((await closed)[0]).toBe(1000);
  });

  test("an upgrade the app rejects with socket.end('HTTP/1.1 400 …') is answered and closed", async () => {
    const { port, upgrades } = await start();
    const raw = await rawConnect(mode, port);
    await raw.write(upgradeRequest('/nope'));
    const response = await raw.readResponse();
    expect(response.status).toBe(400);
    expect(response.body.toString()).toBe('bad upgrade');
    await raw.waitEnd();
    const error = await handshakeError(mode, port, '/nope');
    expect(error.message).toBe('Unexpected server response: 400');
    expect(upgrades).toEqual(['/nope', '/nope']);
  });
});
