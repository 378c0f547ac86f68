/**
 * @rocketserver/adapter-koa — Koa on Rocket. Replace `app.listen(…)` with `listen(app, …)`; the
 * app itself is unchanged (Koa 2 and 3).
 *
 * @example
 * import Koa from 'koa';
 * import { listen } from '@rocketserver/adapter-koa';
 * const app = new Koa();
 * app.use((ctx) => { ctx.body = 'hello'; });
 * listen(app, 3000);
 */

import type { GatewayApp } from '@rocketserver/core';
import { createServer, toGateway as listenerToGateway, type RequestListener, type RocketServer } from '@rocketserver/adapter-node';

/** What a Koa application is to the adapter. */
export interface KoaApp {
  callback(): RequestListener;
}

/** `app.listen(...args)`, on Rocket: takes what `app.listen` takes and returns the server. */
export function listen(app: KoaApp, ...args: unknown[]): RocketServer {
  return createServer(app.callback()).listen(...args);
}

/**
 * The Koa app as a gateway app: to run on a `Rocket` directly, or to mount under a path next to
 * other gateway apps (with `mount` from `@rocketserver/core`).
 */
export function toGateway(app: KoaApp): GatewayApp {
  return listenerToGateway(app.callback());
}
