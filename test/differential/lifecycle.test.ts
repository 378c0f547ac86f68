/**
 * The server's own lifecycle, node:http vs Rocket: `listen()` forms whose effects show at once
 * (`address()` of a UNIX socket, `listen({ signal })`, `ipv6Only`), `close()` right after
 * `listen()` and on a server that never listened, and the order of `close()`'s callback and the
 * `'close'` event when a request is in flight. Each scenario runs on `http.createServer` and on
 * `createServer` from `@rocketserver/adapter-node`, and what each saw must be the same.
 */

import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createServer } from '@rocketserver/adapter-node';
import { RawClient } from '../../packages/core/test/helpers/raw-client.js';
import type { Listener, Side } from './harness.js';

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

const started: http.Server[] = [];
afterEach(async () => {
  for (const server of started.splice(0)) {
    if (server.listening) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
});

function make(side: Side, listener: Listener = (_q, res) => res.end('ok')): http.Server {
  const server = side === 'node' ? http.createServer(listener) : createServer({ rocket: { logger: quietLogger } }, listener);
  started.push(server);
  return server;
}

/** Run `scenario` on both servers; what each returns must be equal. */
async function both<T>(scenario: (make: (listener?: Listener) => http.Server, side: Side) => Promise<T>): Promise<T> {
  const node = await scenario((l) => make('node', l), 'node');
  const rocket = await scenario((l) => make('rocket', l), 'rocket');
  expect(rocket, 'Rocket (received) vs node:http (expected)').toEqual(node);
  return rocket;
}

/** The server's events, in order, until 'close'. */
function record(server: http.Server): { events: string[]; closed: Promise<unknown> } {
  const events: string[] = [];
  server.on('listening', () => events.push('listening'));
  server.on('error', (error: NodeJS.ErrnoException) => events.push(`error ${error.code}`));
  server.on('close', () => events.push('close'));
  return { events, closed: once(server, 'close') };
}

describe('close()', () => {
  test("right after listen(), before 'listening' (Express 5's app.listen(); server.close(done)): closed, no 'listening'", async () => {
    await both(async (make) => {
      const server = make();
      const { events, closed } = record(server);
      // No host: node:http binds before listen() returns (with one, it looks the name up first).
      server.listen(0);
      server.close((error) => events.push(`callback ${(error as NodeJS.ErrnoException | undefined)?.code ?? 'ok'}`));
      await closed;
      await new Promise((resolve) => setImmediate(resolve));
      return { events, listening: server.listening, address: server.address() };
    });
  });

  test("on a server that never listened: 'close', then the callback with ERR_SERVER_NOT_RUNNING", async () => {
    await both(async (make) => {
      const server = make();
      const { events, closed } = record(server);
      server.close((error) => events.push(`callback ${(error as NodeJS.ErrnoException | undefined)?.code ?? 'ok'}`));
      await closed;
      await new Promise((resolve) => setImmediate(resolve));
      return events;
    });
  });

  test("with a request in flight: the response is sent, then 'close' with the callback as its listener", async () => {
    // node:http keeps that connection alive after the response and closes when the client leaves;
    // Rocket closes it after the response (INTENTIONAL.closeEndsBusy). Either way the order is:
    // the response finishes, 'close' listeners run, then close()'s callback (one of them).
    await both(async (make, side) => {
      const events: string[] = [];
      let release!: () => void;
      const requested = new Promise<void>((resolve) => {
        const server = make((_q, res) => {
          res.on('finish', () => events.push('res finish'));
          release = () => res.end('done');
          resolve();
        });
        server.on('close', () => events.push('close event'));
        server.listen(0, '127.0.0.1');
      });
      const server = started.at(-1)!;
      await once(server, 'listening');
      const client = await RawClient.connect((server.address() as net.AddressInfo).port);
      await client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await requested;
      const closed = new Promise<void>((resolve) => server.close(() => (events.push('close callback'), resolve())));
      events.push('close() returned');
      release();
      const response = await client.readResponse();
      // node:http waits for the client to leave; Rocket has already closed.
      if (side === 'node') client.destroy();
      await closed;
      client.destroy();
      return { body: response.body.toString(), events };
    });
  });
});

describe('listen()', () => {
  test('listen(path): address() is the path as soon as listen() returns', async () => {
    let n = 0;
    // node:http still reports the path after close().
    await both(async (make, side) => {
      const path = join(tmpdir(), `rocket-lifecycle-${process.pid}-${side}-${n++}.sock`);
      const server = make();
      server.listen(path);
      const atOnce = server.address() === path;
      await once(server, 'listening');
      const afterwards = server.address() === path;
      await new Promise((resolve) => server.close(resolve));
      return { atOnce, afterwards, afterClose: server.address() === path };
    });
  });

  test("listen({ signal }): aborting closes the server ('close', not listening, connections refused)", async () => {
    await both(async (make) => {
      const controller = new AbortController();
      const server = make();
      const { events, closed } = record(server);
      server.listen({ port: 0, host: '127.0.0.1', signal: controller.signal });
      await once(server, 'listening');
      const { port } = server.address() as net.AddressInfo;
      controller.abort();
      await closed;
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('connect', () => (socket.destroy(), resolve('connected')));
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      return { events, listening: server.listening, refused };
    });
  });

  test("listen({ signal }) with a signal already aborted: closed at once, never 'listening'", async () => {
    await both(async (make) => {
      const server = make();
      const { events, closed } = record(server);
      server.listen({ port: 0, host: '127.0.0.1', signal: AbortSignal.abort() });
      await closed;
      await new Promise((resolve) => setImmediate(resolve));
      return { events, listening: server.listening };
    });
  });

  test('listen({ host: "::", ipv6Only: true }): IPv4 connections are refused, IPv6 ones served', async () => {
    await both(async (make) => {
      const server = make();
      server.listen({ host: '::', port: 0, ipv6Only: true });
      await once(server, 'listening');
      const { port, family } = server.address() as net.AddressInfo;
      const connect = (host: string) =>
        new Promise<string>((resolve) => {
          const socket = net.connect(port, host);
          socket.on('connect', () => (socket.destroy(), resolve('connected')));
          socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        });
      return { family, v4: await connect('127.0.0.1'), v6: await connect('::1') };
    });
  });
});
