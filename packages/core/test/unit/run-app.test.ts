/**
 * Running an app (src/gateway/run-app.ts) with a real `Response` over a loopback connection: how
 * each kind of body goes out, and that every outcome — finished, failed, closed — reaches the
 * exchange once, with the body's close() called.
 */

import { afterEach, describe, expect, test } from 'vitest';
import type { Environ } from '../../src/gateway/environ.js';
import { runGateway, type GatewayApp, type GatewayExchange } from '../../src/gateway/run-app.js';
import { responsePair, type ResponsePair } from '../helpers/response-owner.js';

const pairs: ResponsePair[] = [];
afterEach(async () => {
  for (const pair of pairs.splice(0)) await pair.close();
});

interface Outcome {
  finished: number;
  failed: unknown[];
  closeFailed: unknown[];
  awaited: number;
}

/** Run `app` on a fresh response; resolves when the exchange hears how it ended. */
async function run(app: GatewayApp): Promise<{ outcome: Outcome; pair: ResponsePair }> {
  const pair = await responsePair();
  pairs.push(pair);
  const outcome: Outcome = { finished: 0, failed: [], closeFailed: [], awaited: 0 };
  await new Promise<void>((resolve) => {
    const exchange: GatewayExchange = {
      environ: { PATH_INFO: '/' } as Environ,
      response: pair.response,
      appFinished: () => {
        outcome.finished++;
        resolve();
      },
      appFailed: (error) => {
        outcome.failed.push(error);
        resolve();
      },
      closeFailed: (error) => void outcome.closeFailed.push(error),
      awaitResponse: () => {
        outcome.awaited++;
        resolve();
      },
    };
    runGateway(app, exchange);
  });
  return { outcome, pair };
}

const ok =
  (body: unknown): GatewayApp =>
  (_environ, start) => {
    start('200 OK', []);
    return body as never;
  };

describe('bodies', () => {
  test.each([
    ['a list', ['a', 'b'], 'length', 'ab'],
    ['a string', 'text', 'length', 'text'],
    ['a Uint8Array', new Uint8Array([0x68, 0x69]), 'length', 'hi'],
    ['a generator of one chunk (after empty ones)', (function* () { yield ''; yield 'one'; })(), 'length', 'one'],
    ['a generator of several chunks', (function* () { yield 'a'; yield 'b'; yield 'c'; })(), 'chunked', 'abc'],
    ['an async generator', (async function* () { yield 'x'; yield 'y'; })(), 'chunked', 'xy'],
    ['an empty generator', (function* () {})(), 'length', ''],
  ])('%s', async (_what, body, framing, text) => {
    const { outcome, pair } = await run(ok(body));
    expect(outcome).toMatchObject({ finished: 1, failed: [] });
    const seen = await pair.client.readResponse();
    expect([seen.framing, seen.body.toString()]).toEqual([framing, text]);
  });

  test('a Promise of a body', async () => {
    const { outcome, pair } = await run(async (_environ, start) => {
      start('200 OK', []);
      return ['later'];
    });
    expect(outcome.finished).toBe(1);
    expect((await pair.client.readResponse()).body.toString()).toBe('later');
  });

  test('close() runs before the response ends, so what it writes is part of the body', async () => {
    const { outcome, pair } = await run((_environ, start) => {
      const write = start('200 OK', []);
      const chunks = ['body'];
      return Object.assign(chunks[Symbol.iterator](), { close: () => void write(' and close'), [Symbol.iterator]() { return this; } });
    });
    expect(outcome.finished).toBe(1);
    expect((await pair.client.readResponse()).body.toString()).toBe('body and close');
  });

  test('returning rocket.response leaves the ending to the calls', async () => {
    let pair!: ResponsePair;
    const { outcome } = await run((_environ, start) => {
      start('200 OK', []);
      return pairs.at(-1)!.response as never;
    });
    pair = pairs.at(-1)!;
    expect(outcome).toMatchObject({ awaited: 1, finished: 0, failed: [] });
    expect(pair.response.committed).toBe(false);
  });
});

describe('failures', () => {
  test.each([
    ['throws', () => { throw new Error('sync'); }, /sync/],
    ['rejects', async () => { throw new Error('async'); }, /async/],
    ['returns no body', () => undefined as never, /it must return an iterable body/],
    ['returns a number', () => 42 as never, /the app returned a number/],
  ] as [string, GatewayApp, RegExp][])('an app that %s fails once, before anything is sent', async (_what, app, message) => {
    const { outcome, pair } = await run(app);
    expect(outcome.failed).toHaveLength(1);
    expect(String(outcome.failed[0])).toMatch(message);
    expect(pair.response.committed).toBe(false);
  });

  test('a generator that throws midway: the failure is told after its return() and close() ran', async () => {
    const calls: string[] = [];
    function* body() {
      try {
        yield 'part';
        yield 'more';
        throw new Error('midway');
      } finally {
        calls.push('return');
      }
    }
    const { outcome } = await run((_environ, start) => {
      start('200 OK', []);
      return Object.assign(body(), { close: () => void calls.push('close') });
    });
    expect(String(outcome.failed[0])).toMatch(/midway/);
    expect(calls).toEqual(['return', 'close']);
  });

  test('a close() that throws is reported apart; the response still ends', async () => {
    const { outcome, pair } = await run((_environ, start) => {
      start('200 OK', []);
      return Object.assign(['x'][Symbol.iterator](), {
        close: () => {
          throw new Error('close failed');
        },
        [Symbol.iterator]() {
          return this;
        },
      });
    });
    expect(outcome.finished).toBe(1);
    expect(String(outcome.closeFailed[0])).toMatch(/close failed/);
    expect((await pair.client.readResponse()).body.toString()).toBe('x');
  });
});
