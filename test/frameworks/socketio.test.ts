/**
 * socket.io attached to the server the Express adapter returns (beyond the middleware matrix:
 * engine.io takes over the server's 'request' listeners and its 'upgrade' event, which is what
 * the bridge must leave to it): long-polling, the upgrade to WebSocket, acks, disconnects.
 */

import express from 'express';
import express4 from 'express4';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, test } from 'vitest';
import { listen } from '@rocketserver/adapter-express';
import { closeServers, send, served } from './helpers.js';

/** The arguments of the next `event` on a socket.io client. */
const once = (socket: ClientSocket, event: string) => new Promise<unknown[]>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args)));

const clients: ClientSocket[] = [];
const ios: Server[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const io of ios.splice(0)) await new Promise((resolve) => io.close(() => resolve(undefined)));
  await closeServers();
});

type Express = typeof express;
const frameworks: [string, Express][] = [
  ['Express 5', express],
  ['Express 4', express4 as unknown as Express],
];

describe.each(frameworks)('socket.io on %s', (_name, express) => {
  const start = async () => {
    const app = express();
    app.get('/health', (_req, res) => res.json({ ok: true }));
    const { server, url } = await served(listen(app, 0, '127.0.0.1'));
    const io = new Server(server);
    ios.push(io);
    const disconnects: string[] = [];
    io.on('connection', (socket: ServerSocket) => {
      socket.emit('hello', { id: socket.id });
      socket.on('ping', (payload: unknown, ack: (answer: unknown) => void) => ack({ pong: payload }));
      socket.on('shout', (text: string) => io.emit('shouted', text.toUpperCase()));
      socket.on('disconnect', (reason: string) => disconnects.push(reason));
    });
    return { url, io, disconnects };
  };

  const client = (url: string, options: Parameters<typeof connect>[1] = {}) => {
    const socket = connect(url, { forceNew: true, reconnection: false, ...options });
    clients.push(socket);
    return socket;
  };

  test('connects over long-polling, upgrades to WebSocket, and exchanges events with acks', async () => {
    const { url } = await start();
    const socket = client(url);
    const [hello] = await once(socket, 'hello');
    expect(hello).toEqual({ id: expect.any(String) });
    await expect.poll(() => socket.io.engine?.transport.name).toBe('websocket');
    const answer = await socket.timeout(5000).emitWithAck('ping', { n: 1, text: 'héllo' });
    expect(answer).toEqual({ pong: { n: 1, text: 'héllo' } });
    const shouted = once(socket, 'shouted');
    socket.emit('shout', 'quiet');
    expect(await shouted).toEqual(['QUIET']);
  });

  test('long-polling only: events and acks travel over ordinary HTTP requests', async () => {
    const { url } = await start();
    const socket = client(url, { transports: ['polling'] });
    await once(socket, 'hello');
    expect(socket.io.engine.transport.name).toBe('polling');
    for (let i = 0; i < 5; i++) {
      expect(await socket.timeout(5000).emitWithAck('ping', i)).toEqual({ pong: i });
    }
    // A server push has to reach a client waiting in a long-poll.
    const shouted = once(socket, 'shouted');
    socket.emit('shout', 'over polling');
    expect(await shouted).toEqual(['OVER POLLING']);
  });

  test('WebSocket only, and the Express routes still answer beside socket.io', async () => {
    const { url } = await start();
    const socket = client(url, { transports: ['websocket'] });
    await once(socket, 'hello');
    expect(socket.io.engine.transport.name).toBe('websocket');
    expect(await socket.timeout(5000).emitWithAck('ping', 'ws')).toEqual({ pong: 'ws' });
    const health = await send(`${url}/health`);
    expect(JSON.parse(health.text)).toEqual({ ok: true });
  });

  test('a client disconnect reaches the server', async () => {
    const { url, disconnects } = await start();
    const socket = client(url);
    await once(socket, 'hello');
    socket.disconnect();
    await expect.poll(() => disconnects).toEqual(['client namespace disconnect']);
  });
});
