/**
 * @rocketserver/adapter-fastify — Fastify on Rocket, through Fastify's `serverFactory`. Routes,
 * plugins, `fastify.listen()` and `fastify.close()` are unchanged (Fastify 4 and 5).
 *
 * @example
 * import Fastify from 'fastify';
 * import { serverFactory } from '@rocketserver/adapter-fastify';
 * const fastify = Fastify({ serverFactory });
 * fastify.get('/', async () => ({ hello: 'world' }));
 * await fastify.listen({ port: 3000 });
 */

import { createServer, type RequestListener, type RocketServer } from '@rocketserver/adapter-node';

/** The Fastify options a server factory is given that concern the server. */
export interface FastifyServerOptions {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
  [key: string]: unknown;
}

/**
 * Fastify's `serverFactory`: a Rocket-served `http.Server` for Fastify's handler. Fastify does not
 * set its timeouts on a server from a factory, so they are applied here as Fastify would.
 */
export function serverFactory(handler: RequestListener, options: FastifyServerOptions = {}): RocketServer {
  const server = createServer(handler);
  if (typeof options.keepAliveTimeout === 'number') server.keepAliveTimeout = options.keepAliveTimeout;
  if (typeof options.requestTimeout === 'number') server.requestTimeout = options.requestTimeout;
  if (typeof options.connectionTimeout === 'number') server.setTimeout(options.connectionTimeout);
  if (typeof options.maxRequestsPerSocket === 'number') server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  return server;
}
