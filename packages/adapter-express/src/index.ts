/**
 * @rocketserver/adapter-express — Express on Rocket. Replace `app.listen(…)` with `listen(app, …)`;
 * the app itself is unchanged (Express 4 and 5).
 *
 * @example
 * import express from 'express';
 * import { listen } from '@rocketserver/adapter-express';
 * const app = express();
 * app.get('/', (req, res) => res.send('hello'));
 * listen(app, 3000, () => console.log('listening on 3000'));
 */

import type { GatewayApp } from '@rocketserver/core';
import { createServer, toGateway as listenerToGateway, type RequestListener, type RocketServer } from '@rocketserver/adapter-node';

/**
 * `app.listen(...args)`, on Rocket: takes exactly what `app.listen` takes and returns the server
 * (an `http.Server`). As in Express 5, a callback also hears of a failure to listen.
 */
export function listen(app: RequestListener, ...args: unknown[]): RocketServer {
  const server = createServer(app);
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    let called = false;
    const done = (...results: unknown[]) => {
      if (called) return;
      called = true;
      (last as (...a: unknown[]) => void)(...results);
    };
    args[args.length - 1] = done;
    server.once('error', done);
  }
  return server.listen(...args);
}

/** The Express app as a gateway app, to run on a `Rocket` directly or to mount beside others. */
export function toGateway(app: RequestListener): GatewayApp {
  return listenerToGateway(app);
}
