/**
 * §7.7 row 26: timeouts — req.setTimeout, res.setTimeout, server.setTimeout / server.timeout with
 * and without a listener ('timeout' fan-out, destroy when nobody listens), keepAliveTimeout
 * changed while listening. The app-side delays are the timeouts under test (50 ms); the client
 * only waits for what they cause.
 */

import { describe, test } from 'vitest';
import { type Ctx, differential, req, withServer } from './harness.js';
import { ALL, type Any, EXPRESS, expressApp, rawApp } from './frameworks.js';

/** A request the app never answers by itself: what happens when the timeout fires. */
async function waitForTimeout(c: Ctx, request = req('GET', '/')) {
  const client = await c.connect();
  await client.send(request);
  const outcome = await client.readOutcome({ timeout: 3000 });
  await c.settle();
  return { outcome, ended: client.raw.ended };
}

describe.each(ALL)('%s: timeouts on req and res (row 26)', (name) => {
  test("res.setTimeout(50, cb): the callback answers", async () => {
    await differential(
      rawApp(name, (_q, res, hooks) => {
        res.setTimeout(50, () => {
          hooks.note(res, 'res timeout');
          res.writeHead(503).end('timed out');
        });
      }),
      (c) => waitForTimeout(c),
    );
  });

  test('req.setTimeout(50, cb) while the body is still coming: the callback answers 408', async () => {
    await differential(
      rawApp(name, (req, res, hooks) => {
        req.setTimeout(50, () => {
          hooks.note(req, 'req timeout', { complete: req.complete });
          res.writeHead(408, { Connection: 'close' }).end('body too slow');
        });
      }),
      (c) => waitForTimeout(c, req('POST', '/', { 'Content-Length': 10 }, 'part')),
    );
  });

  test('req.setTimeout(50, cb) on a complete GET: node:http does not tell req, and with no other listener the socket is destroyed', async () => {
    await differential(
      rawApp(name, (req, _res, hooks) => {
        req.setTimeout(50, () => hooks.note(req, 'req timeout'));
      }),
      (c) => waitForTimeout(c),
    );
  });
});

describe.each(EXPRESS)('%s: server timeouts (row 26)', (name) => {
  const pending = () => expressApp(name, (app) => app.get('/', () => {}));

  test("server.setTimeout(50, cb): the server's 'timeout' gets the socket; the callback destroys it", async () => {
    await differential(
      withServer(pending(), (server, hooks) =>
        server.setTimeout(50, (socket: Any) => {
          hooks.note(socket._httpMessage ?? undefined, 'server timeout');
          socket.destroy();
        }),
      ),
      (c) => waitForTimeout(c),
    );
  });

  test('server.timeout = 50 and nobody listens: the socket is destroyed', async () => {
    await differential(
      withServer(pending(), (server) => {
        server.timeout = 50;
      }),
      (c) => waitForTimeout(c),
    );
  });
});

describe('server.keepAliveTimeout (row 26)', () => {
  test('lowered while listening: the idle connection is closed (one framework: it is a server property)', async () => {
    await differential(
      withServer(
        expressApp('express5', (app) => app.get('/', (_q: Any, res: Any) => res.send('ok'))),
        (server, hooks) => {
          hooks.locals.server = server;
        },
      ),
      async (c) => {
        c.hooks.locals.server.keepAliveTimeout = 200;
        const client = await c.connect();
        await client.send(req('GET', '/'));
        const response = await client.read();
        // Rocket closes "a little after" the timeout (up to 1 s, README "Options"); node:http at it.
        await client.waitEnd(3000);
        return { response, ended: client.raw.ended };
      },
    );
  });
});
