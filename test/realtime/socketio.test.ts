/**
 * socket.io on Rocket: `new Server(httpServer)` on a Rocket createServer (alone, and with an
 * Express app as the request listener), over plain TCP and TLS, with socket.io-client on long
 * polling only, WebSocket only, and the default (polling, then the upgrade to WebSocket).
 */

import http from 'node:http';
import https from 'node:https';
import express from 'express';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { Server, type ServerOptions, type Socket as ServerSocket } from 'socket.io';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import type { RocketServer } from '@rocketserver/adapter-node';
import {
  MODES,
  type Mode,
  clientTls,
  deferred,
  httpGet,
  httpUrl,
  listen,
  makeServer,
  next,
  onCleanup,
  rawConnect,
  removeCerts,
  runCleanups,
  upgradeRequest,
  within,
  wsUrl,
} from './helpers.js';

afterEach(runCleanups);
afterAll(removeCerts);

type Transports = ['polling'] | ['websocket'] | undefined;
const TRANSPORTS: [string, Transports][] = [
  ['polling only', ['polling']],
  ['websocket only', ['websocket']],
  ['default (polling, then upgrade)', undefined],
];

/** A Rocket server (with `listener`, if any) and a socket.io server attached to it. */
async function startIo(mode: Mode, listener?: http.RequestListener, options: Partial<ServerOptions> = {}): Promise<{ server: RocketServer; io: Server; port: number }> {
  const server = makeServer(mode, listener);
  const io = new Server(server, options);
  onCleanup(() => new Promise<void>((resolve) => void io.close(() => resolve())));
  const port = await listen(server);
  return { server, io, port };
}

/** The server side of the next connection; register before connecting. */
function nextConnection(io: Server): Promise<ServerSocket> {
  return within(
    new Promise((resolve) => {
      io.once('connection', resolve);
    }),
    "io 'connection'",
  );
}

/** A socket.io client (no reconnection, its own Manager), disconnected after the test. */
function client(mode: Mode, port: number, transports: Transports): ClientSocket {
  const socket = ioClient(httpUrl(mode, port), {
    forceNew: true,
    reconnection: false,
    ...(transports === undefined ? {} : { transports }),
    ...clientTls(mode),
  });
  onCleanup(() => socket.disconnect());
  return socket;
}

/** Connect and wait for 'connect' (or fail with the connect_error). */
async function connected(socket: ClientSocket): Promise<ClientSocket> {
  if (socket.connected) return socket;
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    }),
    "the client's 'connect'",
  );
  return socket;
}

function transportName(socket: ClientSocket): string | undefined {
  return socket.io.engine?.transport?.name;
}

/** With the default transports, wait until both sides run on WebSocket. */
async function settled(transports: Transports, socket: ClientSocket, serverSocket: ServerSocket): Promise<void> {
  const expected = transports?.[0] ?? 'websocket';
  await expect.poll(() => transportName(socket), { timeout: 5000 }).toBe(expected);
  await expect.poll(() => serverSocket.conn.transport.name, { timeout: 5000 }).toBe(expected);
}

/** Handlers used by most tests. */
function serve(io: Server): void {
  io.on('connection', (socket) => {
    socket.on('echo', (value: unknown, ack: (reply: unknown) => void) => {
      ack({ value, transport: socket.conn.transport.name, secure: socket.handshake.secure, address: socket.handshake.address });
    });
    socket.on('join', (room: string, ack: () => void) => {
      void socket.join(room);
      ack();
    });
    socket.on('shout', (room: string, message: string) => {
      socket.to(room).emit('news', message);
    });
    socket.on('binary', (payload: { buf: Buffer; parts: Buffer[]; label: string }, ack: (reply: unknown) => void) => {
      ack({
        label: payload.label,
        isBuffer: Buffer.isBuffer(payload.buf),
        reversed: Buffer.from(payload.buf).reverse(),
        lengths: payload.parts.map((part) => part.length),
        joined: Buffer.concat(payload.parts),
      });
    });
  });
}

/** Collects every 'news' a client receives. */
function collect(socket: ClientSocket, event: string): unknown[] {
  const got: unknown[] = [];
  socket.on(event, (value: unknown) => got.push(value));
  return got;
}

describe.each(MODES)('socket.io on a Rocket server (%s)', (mode) => {
  describe.each(TRANSPORTS)('transports: %s', (_name, transports) => {
    test('connects; emit/ack round trips both ways', async () => {
      const { io, port } = await startIo(mode);
      serve(io);
      const serverSide = nextConnection(io);
      const socket = await connected(client(mode, port, transports));
      const serverSocket = await serverSide;
      await settled(transports, socket, serverSocket);
      expect(serverSocket.id).toBe(socket.id);
      const reply = await within(socket.emitWithAck('echo', { hello: 'world', n: 42, list: [1, 'two'] }), 'the ack');
      expect(reply).toEqual({
        value: { hello: 'world', n: 42, list: [1, 'two'] },
        transport: transports?.[0] ?? 'websocket',
        secure: mode === 'tls',
        address: '127.0.0.1',
      });
      // The server asks, the client acknowledges.
      socket.on('question', (a: number, b: number, ack: (sum: number) => void) => ack(a + b));
      expect(await within(serverSocket.timeout(5000).emitWithAck('question', 20, 22), "the client's ack")).toBe(42);
      // Many in a row keep their order.
      const replies = await within(Promise.all(Array.from({ length: 50 }, (_, i) => socket.emitWithAck('echo', i))), '50 acks');
      expect(replies.map((r: { value: number }) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    test('binary payloads both ways', async () => {
      const { io, port } = await startIo(mode);
      serve(io);
      const serverSide = nextConnection(io);
      const socket = await connected(client(mode, port, transports));
      const serverSocket = await serverSide;
      await settled(transports, socket, serverSocket);
      const buf = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
      const parts = [Buffer.from([0, 1, 2]), Buffer.alloc(0), Buffer.alloc(70_000, 0xab)];
      const reply = (await within(socket.emitWithAck('binary', { label: 'bytes', buf, parts }), 'the binary ack')) as {
        label: string;
        isBuffer: boolean;
        reversed: Buffer | ArrayBuffer;
        lengths: number[];
        joined: Buffer | ArrayBuffer;
      };
      expect(reply.label).toBe('bytes');
      expect(reply.isBuffer).toBe(true);
      expect(Buffer.from(reply.reversed as ArrayBuffer).equals(Buffer.from(buf).reverse())).toBe(true);
      expect(reply.lengths).toEqual([3, 0, 70_000]);
      expect(Buffer.from(reply.joined as ArrayBuffer).equals(Buffer.concat(parts))).toBe(true);
      // Server to client.
      const received = next<[Buffer | ArrayBuffer]>(socket, 'bytes');
      serverSocket.emit('bytes', Buffer.from('\u0000\u00ff binary \u0001', 'latin1'));
      const [bytes] = await received;
      expect(Buffer.from(bytes as ArrayBuffer).toString('latin1')).toBe('\u0000\u00ff binary \u0001');
    });

    test("a client's disconnect() is noticed by the server", async () => {
      const { io, port } = await startIo(mode);
      const serverSide = nextConnection(io);
      const socket = await connected(client(mode, port, transports));
      const serverSocket = await serverSide;
      await settled(transports, socket, serverSocket);
      const gone = next<[string]>(serverSocket, 'disconnect');
      socket.disconnect();
      expect((await gone)[0]).toBe('client namespace disconnect');
      await expect.poll(() => io.engine.clientsCount, { timeout: 5000 }).toBe(0);
    });
  });

  test('rooms: broadcasts reach the members only; io.emit reaches everyone', async () => {
    const { io, port } = await startIo(mode);
    serve(io);
    const a = await connected(client(mode, port, ['polling']));
    const b = await connected(client(mode, port, ['websocket']));
    const outsider = await connected(client(mode, port, undefined));
    const newsA = collect(a, 'news');
    const newsB = collect(b, 'news');
    const newsOutsider = collect(outsider, 'news');
    await within(Promise.all([a.emitWithAck('join', 'room-1'), b.emitWithAck('join', 'room-1')]), 'the joins');
    expect(io.sockets.adapter.rooms.get('room-1')?.size).toBe(2);

    const bothGotAll = Promise.all([next(a, 'news'), next(b, 'news')]);
    io.to('room-1').emit('news', 'to the room');
    await bothGotAll;

    // socket.to(room) from a: b gets it, a does not.
    const bGotShout = next(b, 'news');
    a.emit('shout', 'room-1', 'from a');
    await bGotShout;

    // Everyone, then a direct message to each: anything broadcast earlier would have arrived first.
    const everyone = Promise.all([a, b, outsider].map((s) => next<[string]>(s, 'everyone')));
    io.emit('everyone', 'hello all');
    expect((await everyone).map(([v]) => v)).toEqual(['hello all', 'hello all', 'hello all']);
    const direct = Promise.all([a, outsider].map((s) => next(s, 'direct')));
    io.to(a.id!).emit('direct');
    io.to(outsider.id!).emit('direct');
    await direct;
    expect(newsA).toEqual(['to the room']);
    expect(newsB).toEqual(['to the room', 'from a']);
    expect(newsOutsider).toEqual([]);
  });

  test('a long-poll GET whose client vanishes is noticed at once (req close), not at the ping timeout', async () => {
    const { io, port } = await startIo(mode);
    const lib = mode === 'tls' ? https : http;
    const base = '/socket.io/?EIO=4&transport=polling';
    /** One request on its own connection; resolves with the body, bounded. */
    const call = (method: string, path: string, body?: string) =>
      within(
        new Promise<string>((resolve, reject) => {
          const req = lib.request(httpUrl(mode, port, path), { method, agent: false, ...clientTls(mode), headers: body ? { 'Content-Type': 'text/plain;charset=UTF-8' } : {} }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode}: ${text}`))));
          });
          req.on('error', reject);
          req.end(body);
        }),
        `${method} ${path}`,
      );
    const open = await call('GET', base);
    expect(open.startsWith('0{')).toBe(true);
    const { sid, pingInterval, pingTimeout } = JSON.parse(open.slice(1)) as { sid: string; pingInterval: number; pingTimeout: number };
    expect(pingInterval + pingTimeout).toBeGreaterThan(20_000);
    const serverSide = nextConnection(io);
    expect(await call('POST', `${base}&sid=${sid}`, '40')).toBe('ok');
    expect(await call('GET', `${base}&sid=${sid}`)).toMatch(/^40\{"sid":/);
    const serverSocket = await serverSide;
    const gone = next<[string]>(serverSocket, 'disconnect', 4000);
    // The next poll hangs on the server until there is something to send; the client goes away.
    const poll = lib.request(httpUrl(mode, port, `${base}&sid=${sid}`), { agent: false, ...clientTls(mode) });
    poll.on('error', () => {});
    poll.end();
    await within(new Promise<void>((resolve) => poll.once('socket', (s) => s.once(mode === 'tls' ? 'secureConnect' : 'connect', () => resolve()))), 'the poll to connect');
    await expect.poll(() => (serverSocket.conn.transport as unknown as { writable: boolean }).writable, { timeout: 5000 }).toBe(true);
    poll.destroy();
    expect((await gone)[0]).toBe('transport error');
  });

  test('an abruptly closed websocket transport is noticed by the server', async () => {
    const { io, port } = await startIo(mode);
    const serverSide = nextConnection(io);
    const ws = new WebSocket(wsUrl(mode, port, '/socket.io/?EIO=4&transport=websocket'), clientTls(mode));
    onCleanup(() => ws.terminate());
    const [open] = await next<[Buffer]>(ws, 'message');
    expect(open.toString().startsWith('0{')).toBe(true);
    ws.send('40');
    const [ack] = await next<[Buffer]>(ws, 'message');
    expect(ack.toString()).toMatch(/^40\{"sid":/);
    const serverSocket = await serverSide;
    const gone = next<[string]>(serverSocket, 'disconnect', 4000);
    ws.terminate();
    expect((await gone)[0]).toBe('transport close');
  });

  test('an upgrade for a path socket.io does not serve is ended after destroyUpgradeTimeout', async () => {
    const { port } = await startIo(mode, (_req, res) => res.end('app'), { destroyUpgradeTimeout: 100 });
    const raw = await rawConnect(mode, port);
    const started = Date.now();
    await raw.write(upgradeRequest('/not-socket-io'));
    // engine.io ends the socket (nothing was written on it: bytesWritten is 0), as on node:http.
    expect((await raw.readToEnd(3000)).length).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  test('io.close() disconnects the clients and closes the http server (callback fires)', async () => {
    const { server, io, port } = await startIo(mode);
    const polling = await connected(client(mode, port, ['polling']));
    const websocket = await connected(client(mode, port, ['websocket']));
    const disconnects = [polling, websocket].map((s) => next<[string]>(s, 'disconnect'));
    const serverClosed = next(server, 'close');
    const done = deferred<Error | undefined>();
    const started = Date.now();
    void io.close((error) => done.resolve(error));
    expect(await within(done.promise, 'the io.close() callback', 4000)).toBeUndefined();
    await serverClosed;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(server.listening).toBe(false);
    for (const [reason] of await Promise.all(disconnects)) expect(reason).toMatch(/transport close|io server disconnect/);
    // Nothing listens any more.
    await expect(httpGet(mode, port, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe.each(MODES)('socket.io with an Express app as the request listener (%s)', (mode) => {
  async function start() {
    const app = express();
    app.use(express.json());
    app.get('/api/hello', (req, res) => {
      res.json({ hello: 'world', secure: req.secure, ip: req.ip });
    });
    app.post('/api/echo', (req, res) => {
      res.json({ echoed: req.body });
    });
    const started = await startIo(mode, app);
    serve(started.io);
    // A route added after socket.io attached still reaches the app.
    app.get('/api/late', (_req, res) => {
      res.type('text').send('late route');
    });
    return { app, ...started };
  }

  test("the app's routes and socket.io's share the server", async () => {
    const { port, server } = await start();
    // engine.io re-dispatches everything that is not /socket.io/ to the cached listener: the app.
    expect(server.listeners('request')).toHaveLength(1);
    expect(await httpGet(mode, port, '/api/hello')).toMatchObject({ status: 200, body: JSON.stringify({ hello: 'world', secure: mode === 'tls', ip: '127.0.0.1' }) });
    expect(await httpGet(mode, port, '/api/late')).toMatchObject({ status: 200, body: 'late route' });
    expect((await httpGet(mode, port, '/nowhere')).status).toBe(404);
    // socket.io serves its client bundle itself.
    const bundle = await httpGet(mode, port, '/socket.io/socket.io.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.body.length).toBeGreaterThan(10_000);
    // An engine.io handshake is answered by engine.io, not the app.
    const handshake = await httpGet(mode, port, '/socket.io/?EIO=4&transport=polling');
    expect(handshake.status).toBe(200);
    expect(handshake.body.startsWith('0{"sid":')).toBe(true);
  });

  test.each(TRANSPORTS)('clients (%s) and app requests work side by side', async (_name, transports) => {
    const { port } = await start();
    const socket = await connected(client(mode, port, transports));
    if (transports === undefined) await expect.poll(() => transportName(socket), { timeout: 5000 }).toBe('websocket');
    const lib = mode === 'tls' ? https : http;
    const post = within(
      new Promise<string>((resolve, reject) => {
        const req = lib.request(httpUrl(mode, port, '/api/echo'), { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' }, ...clientTls(mode) }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ a: [1, 2, 3] }));
      }),
      'POST /api/echo',
    );
    const [ack, posted, got] = await Promise.all([
      within(socket.emitWithAck('echo', 'via socket.io'), 'the ack'),
      post,
      httpGet(mode, port, '/api/hello'),
    ]);
    expect(ack).toMatchObject({ value: 'via socket.io', secure: mode === 'tls' });
    expect(JSON.parse(posted)).toEqual({ echoed: { a: [1, 2, 3] } });
    expect(got.status).toBe(200);
  });
});
