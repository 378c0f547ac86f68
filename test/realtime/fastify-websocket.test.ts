/**
 * @fastify/websocket on Fastify served by Rocket (`serverFactory` from @rocketserver/adapter-fastify):
 * upgrades are dispatched through Fastify's router and hooks, on the raw socket Rocket hands over.
 */

import type net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { serverFactory } from '@rocketserver/adapter-fastify';
import { RocketServer } from '@rocketserver/adapter-node';
import { httpGet, next, onCleanup, rawConnect, runCleanups, upgradeRequest, within, wsUrl } from './helpers.js';

afterEach(runCleanups);

async function start(): Promise<{ fastify: FastifyInstance; port: number; hooks: { url: string; ws: boolean }[] }> {
  const fastify = Fastify({ serverFactory });
  onCleanup(() => fastify.close());
  const hooks: { url: string; ws: boolean }[] = [];
  await fastify.register(fastifyWebsocket);
  fastify.addHook('onRequest', async (request, reply) => {
    hooks.push({ url: request.url, ws: request.ws });
    if (request.url.includes('token=bad')) return reply.code(401).send({ error: 'unauthorized' });
  });
  fastify.get('/hello', async () => ({ hello: 'world' }));
  fastify.route({
    method: 'GET',
    url: '/chat',
    handler: async () => ({ http: true }),
    wsHandler: (socket, request) => {
      socket.send(`welcome ${(request.query as { name?: string }).name ?? 'anonymous'}`);
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) socket.send(Buffer.from(data).reverse(), { binary: true });
        else socket.send(`echo:${data.toString()}`);
      });
    },
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  expect(fastify.server).toBeInstanceOf(RocketServer);
  return { fastify, port: (fastify.server.address() as net.AddressInfo).port, hooks };
}

/** A client with its messages queued from the start. */
function client(port: number, path: string) {
  const ws = new WebSocket(wsUrl('plain', port, path));
  onCleanup(() => ws.terminate());
  const messages: { data: Buffer; isBinary: boolean }[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    messages.push({ data, isBinary });
    wake?.();
  });
  const open = next(ws, 'open');
  open.catch(() => {});
  return {
    ws,
    open,
    async next(): Promise<{ data: Buffer; isBinary: boolean }> {
      if (messages.length === 0) await within(new Promise<void>((resolve) => (wake = resolve)), 'a message');
      return messages.shift()!;
    },
  };
}

describe('@fastify/websocket on Fastify({ serverFactory })', () => {
  test('websocket routes and HTTP routes, on the same path and alongside', async () => {
    const { port, hooks } = await start();
    const c = client(port, '/chat?name=rocket');
    await c.open;
    expect((await c.next()).data.toString()).toBe('welcome rocket');
    c.ws.send('hi');
    const text = await c.next();
    expect(text.isBinary).toBe(false);
    expect(text.data.toString()).toBe('echo:hi');
    c.ws.send(Buffer.from([1, 2, 3]));
    const binary = await c.next();
    expect(binary.isBinary).toBe(true);
    expect([...binary.data]).toEqual([3, 2, 1]);
    // Ordinary requests, while the websocket is open — including to the websocket route's path.
    expect(await httpGet('plain', port, '/chat')).toMatchObject({ status: 200, body: '{"http":true}' });
    expect(await httpGet('plain', port, '/hello')).toMatchObject({ status: 200, body: '{"hello":"world"}' });
    expect(hooks).toEqual([
      { url: '/chat?name=rocket', ws: true },
      { url: '/chat', ws: false },
      { url: '/hello', ws: false },
    ]);
    c.ws.send('still open');
    expect((await c.next()).data.toString()).toBe('echo:still open');
  });

  test('a hook can refuse an upgrade (401); an upgrade to an unknown route gets 404 and is closed', async () => {
    const { port } = await start();
    const refused = client(port, '/chat?token=bad');
    const [error] = await next<[Error]>(refused.ws, 'error');
    expect(error.message).toBe('Unexpected server response: 401');
    const raw = await rawConnect('plain', port);
    await raw.write(upgradeRequest('/nowhere'));
    const response = await raw.readResponse();
    expect(response.status).toBe(404);
    await raw.waitEnd();
    // The server is fine afterwards.
    const ok = client(port, '/chat');
    await ok.open;
    expect((await ok.next()).data.toString()).toBe('welcome anonymous');
  });

  test('fastify.close() closes open websockets and the server', async () => {
    const { fastify, port } = await start();
    const c = client(port, '/chat');
    await c.open;
    await c.next();
    const closed = next<[number, Buffer]>(c.ws, 'close');
    await within(fastify.close(), 'fastify.close()', 4000);
    expect(fastify.server.listening).toBe(false);
    // @fastify/websocket's preClose hook closes every client (no status code: 1005).
    expect((await closed)[0]).toBe(1005);
  });
});
