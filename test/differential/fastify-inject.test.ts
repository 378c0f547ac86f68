/**
 * §7.7 row 34: `fastify.inject()` still works with Rocket's serverFactory — before and after
 * listen, and while real requests are served. inject goes through light-my-request straight to
 * Fastify's handler, so it does not exercise the bridge at all (node-bridge.md §6); this only
 * checks that the factory does not get in its way, and that inject gives what it gives with a
 * node:http factory.
 */

import http from 'node:http';
import type net from 'node:net';
import { describe, expect, test } from 'vitest';
import { serverFactory } from '@rocketserver/adapter-fastify';
import { type Any, FASTIFY } from './frameworks.js';
import Fastify5 from 'fastify';
import Fastify4 from 'fastify4';

function build(name: string, factory: Any) {
  const fastify = (name === 'fastify4' ? (Fastify4 as Any) : (Fastify5 as Any))({ serverFactory: factory });
  fastify.get('/hello', async (request: Any) => ({ hello: 'world', query: request.query }));
  fastify.post('/echo', async (request: Any, reply: Any) => reply.code(201).header('x-echo', 'yes').send(request.body));
  return fastify;
}

async function injectAll(fastify: Any) {
  const strip = (r: Any) => {
    const { date: _date, ...headers } = r.headers;
    return { status: r.statusCode, headers, body: r.body };
  };
  return {
    hello: strip(await fastify.inject({ method: 'GET', url: '/hello?x=1' })),
    echo: strip(await fastify.inject({ method: 'POST', url: '/echo', payload: { a: [1, 2] } })),
    missing: strip(await fastify.inject({ method: 'GET', url: '/missing' })),
  };
}

describe.each(FASTIFY)('%s: fastify.inject with serverFactory (row 34)', (name) => {
  test('same results as with a node:http factory, before listen, after listen, and next to real requests', async () => {
    const node = build(name, (handler: Any) => http.createServer(handler));
    const rocket = build(name, serverFactory);
    try {
      const beforeNode = await injectAll(node);
      const beforeRocket = await injectAll(rocket);
      expect(beforeRocket).toEqual(beforeNode);
      await rocket.listen({ port: 0, host: '127.0.0.1' });
      const afterRocket = await injectAll(rocket);
      expect(afterRocket).toEqual(beforeNode);
      const port = (rocket.server.address() as net.AddressInfo).port;
      const real = await fetch(`http://127.0.0.1:${port}/hello?x=1`);
      expect(await real.json()).toEqual({ hello: 'world', query: { x: '1' } });
    } finally {
      await node.close();
      await rocket.close();
    }
  });
});
