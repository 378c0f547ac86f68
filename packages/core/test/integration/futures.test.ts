/**
 * Futures (rocket.md §8): the executor's main-thread tasks and limit, lifespans, remembered futures
 * and their expiry, shutdown, worker-thread tasks, and FuturesMiddleware on a real server.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, onTestFinished, test, vi } from 'vitest';
import type { Environ } from '@rocketserver/core';
import {
  CancelledError,
  Executor,
  FuturesMiddleware,
  TimeoutError,
  WorkerExitError,
  type ExecutorOptions,
  type FuturesEnviron,
  type Future,
} from '../../src/apps/futures.js';
import { RawClient } from '../helpers/raw-client.js';
import { serve } from '../helpers/server.js';

const TASKS = fileURLToPath(new URL('../fixtures/futures-tasks.mjs', import.meta.url));
const TASKS_URL = new URL('../fixtures/futures-tasks.mjs', import.meta.url);

/** An executor shut down when the test ends. */
function executor(options: ExecutorOptions = {}): Executor {
  const made = new Executor(options);
  onTestFinished(() => made.shutdown());
  return made;
}

/** A promise with its resolve function: tasks wait on gates, tests wait on events. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function whenDone(future: Future<unknown>): Promise<void> {
  return new Promise((resolve) => future.addDoneCallback(() => resolve()));
}

/** Resolves once the `block` fixture runs in its worker (it sets and notifies `gate[1]`). */
async function blockStarted(gate: Int32Array): Promise<void> {
  const waited = Atomics.waitAsync(gate, 1, 0, 2000);
  const outcome = waited.async ? await waited.value : waited.value;
  if (outcome === 'timed-out') throw new Error('the block task did not start within 2 s');
}

async function get(client: RawClient, path: string) {
  await client.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
  const response = await client.readResponse();
  return { status: response.status, body: response.body.toString() };
}

describe('main-thread tasks', () => {
  test('the result of a sync function, an async one, and the errors they throw', async () => {
    const ex = executor();
    const sync = ex.submit((a: number, b: number) => a + b, 2, 3);
    const later = ex.submit(async (text: string) => {
      await Promise.resolve();
      return text.toUpperCase();
    }, 'ok');
    const thrown = ex.submit(() => {
      throw new RangeError('sync failure');
    });
    const rejected = ex.submit(async () => {
      throw new TypeError('async failure');
    });
    // Nothing runs inside submit().
    expect([sync.running(), sync.done()]).toEqual([false, false]);
    expect(await sync.result()).toBe(5);
    expect(await later.result()).toBe('OK');
    await expect(thrown.result()).rejects.toThrow(new RangeError('sync failure'));
    await expect(rejected.result()).rejects.toThrow(new TypeError('async failure'));
    expect(await thrown.exception()).toBeInstanceOf(RangeError);
    expect(await sync.exception()).toBeUndefined();
    expect([sync.done(), sync.running(), sync.cancelled(), sync.cancel()]).toEqual([true, false, false, false]);
  });

  test('a running task: running(), cancel() refused, result(timeout) times out without stopping it', async () => {
    const ex = executor();
    const gate = deferred<string>();
    const started = deferred();
    const future = ex.submit(async () => {
      started.resolve();
      return gate.promise;
    });
    await started.promise;
    expect(future.running()).toBe(true);
    expect(future.cancel()).toBe(false);
    await expect(future.result(0.01)).rejects.toBeInstanceOf(TimeoutError);
    gate.resolve('finished');
    expect(await future.result(1)).toBe('finished');
  });

  test('done callbacks run once done, or at once when added later; a throwing one is reported', async () => {
    const reported: string[] = [];
    const ex = executor({ logger: { error: (message) => reported.push(message) } });
    const calls: string[] = [];
    const future = ex.submit(() => 'v');
    future.addDoneCallback(() => {
      throw new Error('callback bug');
    });
    future.addDoneCallback((f) => calls.push(`first ${String(f.done())}`));
    await future.result();
    future.addDoneCallback(() => calls.push('late'));
    expect(calls).toEqual(['first true', 'late']);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain('callback bug');
  });

  test('with threads=2, a third task starts only once one of the first two has finished', async () => {
    const ex = executor({ threads: 2 });
    const events: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const started = [deferred(), deferred(), deferred()];
    const futures = [0, 1, 2].map((i) =>
      ex.submit(async () => {
        events.push(`start ${i}`);
        started[i]!.resolve();
        await gates[i]!.promise;
        events.push(`end ${i}`);
      }),
    );
    await Promise.all([started[0]!.promise, started[1]!.promise]);
    expect(futures[2]!.running()).toBe(false);
    expect(ex.stats()).toMatchObject({ running: 2, queued: 1 });
    gates[1]!.resolve();
    await started[2]!.promise;
    expect(events).toEqual(['start 0', 'start 1', 'end 1', 'start 2']);
    gates[0]!.resolve();
    gates[2]!.resolve();
    await Promise.all(futures.map((f) => f.result()));
  });

  test('a task that does not start within its lifespan is cancelled instead of run', async () => {
    const ex = executor({ threads: 1, lifespan: 0.05 });
    const gate = deferred();
    const holder = ex.submit(() => gate.promise);
    let ran = false;
    const late = ex.submit(() => {
      ran = true;
    });
    await expect(late.result()).rejects.toThrow(CancelledError);
    await expect(late.result()).rejects.toThrow('did not start within its lifespan of 0.05 s');
    expect(late.cancelled()).toBe(true);
    gate.resolve();
    await holder.result();
    // The slot is free again and the cancelled task stays cancelled.
    expect(await ex.submit(() => 'next').result()).toBe('next');
    expect(ran).toBe(false);
  });

  test('remember(name, lifespan) sets the lifespan of a task still waiting', async () => {
    const ex = executor({ threads: 1 });
    const gate = deferred();
    ex.submit(() => gate.promise);
    const waiting = ex.submit(() => 'never').remember('waiting', 0.02);
    await expect(waiting.result()).rejects.toThrow(CancelledError);
    gate.resolve();
  });

  test('cancel() before the task starts: it never runs', async () => {
    const ex = executor({ threads: 1 });
    let ran = false;
    const future = ex.submit(() => {
      ran = true;
    });
    expect(future.cancel()).toBe(true);
    expect(future.cancel()).toBe(true);
    await expect(future.exception()).rejects.toThrow(CancelledError);
    await ex.submit(() => {}).result();
    expect(ran).toBe(false);
  });
});

describe('remembered futures', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('remember() stores the future by name, forget() removes it, a taken name is refused', async () => {
    const ex = executor();
    const first = ex.submit(() => 1);
    expect(first.remember('job')).toBe(first);
    expect(ex.futures.get('job')).toBe(first);
    first.remember('job'); // the same future again: fine
    const second = ex.submit(() => 2);
    expect(() => second.remember('job')).toThrow('Cannot remember future by name "job".  A future already exists with that name.');
    first.forget();
    expect(ex.futures.has('job')).toBe(false);
    second.remember('job');
    expect(await ex.futures.get('job')!.result()).toBe(2);
    // Names that are special on plain objects are ordinary keys of the Map.
    ex.submit(() => 3).remember('__proto__');
    expect(ex.futures.has('__proto__')).toBe(true);
    // Remembering under another name moves it.
    second.remember('renamed');
    expect([ex.futures.has('job'), ex.futures.get('renamed')]).toEqual([false, second]);
  });

  test('a remembered future is forgotten one lifespan after it is done, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ex = executor();
    const gate = deferred();
    const started = deferred();
    const future = ex
      .submit(async () => {
        started.resolve();
        await gate.promise;
        return 'value';
      })
      .remember('job', 10);
    await started.promise;
    vi.advanceTimersByTime(60_000);
    expect(ex.futures.get('job')).toBe(future); // still running: kept
    gate.resolve();
    await future.result();
    vi.advanceTimersByTime(9_999);
    expect(ex.futures.get('job')).toBe(future);
    vi.advanceTimersByTime(1);
    expect(ex.futures.has('job')).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a future remembered after it was done is kept one lifespan from then; Infinity keeps it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ex = executor({ lifespan: 5 });
    const done = ex.submit(() => 'done');
    const forever = ex.submit(() => 'forever');
    await Promise.all([done.result(), forever.result()]);
    vi.advanceTimersByTime(60_000);
    done.remember('done');
    forever.remember('forever', Infinity);
    vi.advanceTimersByTime(4_999);
    expect(ex.futures.has('done')).toBe(true);
    vi.advanceTimersByTime(1);
    expect([...ex.futures.keys()]).toEqual(['forever']);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a cancelled or failed remembered future expires too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ex = executor({ lifespan: 1 });
    const failed = ex.submit(() => {
      throw new Error('x');
    }).remember('failed');
    const cancelled = ex.submit(() => {}).remember('cancelled');
    cancelled.cancel();
    await failed.exception();
    vi.advanceTimersByTime(1000);
    expect(ex.futures.size).toBe(0);
  });
});

describe('shutdown', () => {
  test('refuses new tasks, cancels waiting ones, lets running ones finish, empties futures', async () => {
    const ex = new Executor({ threads: 1 });
    const gate = deferred<string>();
    const started = deferred();
    const running = ex.submit(async () => {
      started.resolve();
      return gate.promise;
    });
    const waiting = ex.submit(() => 'never');
    ex.submit(() => 'remembered').remember('kept');
    await started.promise;
    await ex.shutdown();
    expect(ex.isShutdown).toBe(true);
    expect(() => ex.submit(() => 1)).toThrow('Cannot schedule new futures after shutdown');
    await expect(waiting.result()).rejects.toThrow(CancelledError);
    await expect(waiting.result()).rejects.toThrow('the executor shut down before the task started');
    expect(ex.futures.size).toBe(0);
    gate.resolve('still finished');
    expect(await running.result()).toBe('still finished');
    await ex.shutdown(); // again: nothing to do
  });

  test('without wait, a task running in a worker thread fails with WorkerExitError', async () => {
    const ex = new Executor({ workerThreads: 1 });
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const blocked = ex.submit({ module: TASKS, export: 'block' }, gate);
    expect(blocked.running()).toBe(false);
    await blockStarted(gate);
    expect(blocked.running()).toBe(true);
    await ex.shutdown();
    const error = await blocked.exception();
    expect(error).toBeInstanceOf(WorkerExitError);
    expect((error as Error).message).toBe('the executor shut down while the task ran in a worker thread');
    expect(ex.stats().workers).toBe(0);
  });

  test('with wait, running tasks finish first (worker and main thread), then workers end', async () => {
    const ex = new Executor({ workerThreads: 1 });
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const events: string[] = [];
    const blocked = ex.submit<string>({ module: TASKS, export: 'block' }, gate);
    const queued = ex.submit({ module: TASKS, export: 'add' }, 1, 1);
    const here = deferred();
    const hereStarted = deferred();
    const mainTask = ex.submit(async () => {
      hereStarted.resolve();
      await here.promise;
    });
    await hereStarted.promise;
    await blockStarted(gate);
    blocked.addDoneCallback(() => events.push('worker task done'));
    mainTask.addDoneCallback(() => events.push('main task done'));
    const stopped = ex.shutdown({ wait: true }).then(() => events.push('shut down'));
    await expect(queued.result()).rejects.toThrow(CancelledError);
    expect(ex.stats()).toMatchObject({ workers: 1, workersBusy: 1, running: 1 });
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await whenDone(blocked);
    here.resolve();
    await stopped;
    expect(events).toEqual(['worker task done', 'main task done', 'shut down']);
    expect(['ok', 'not-equal']).toContain(await blocked.result());
    expect(ex.stats().workers).toBe(0);
  });
});

describe('worker-thread tasks', () => {
  test('run the named export of a module in another thread; args and result are cloned', async () => {
    const ex = executor({ workerThreads: 2 });
    const byPath = ex.submit<{ sum: number; threadId: number }>({ module: TASKS, export: 'add' }, 2, 40);
    const byUrl = ex.submit<number>({ module: TASKS_URL });
    const byString = ex.submit<{ sum: number }>({ module: TASKS_URL.href, export: 'add' }, 1, 2);
    const result = await byPath.result();
    expect(result.sum).toBe(42);
    expect(result.threadId).not.toBe(threadId);
    expect(await byUrl.result()).not.toBe(threadId);
    expect((await byString.result()).sum).toBe(3);
    expect(ex.stats()).toMatchObject({ workers: 2, workersBusy: 0, workerQueued: 0 });
  });

  test('errors reach the future with their name and code', async () => {
    const ex = executor({ workerThreads: 1 });
    const error = (await ex.submit({ module: TASKS, export: 'fail' }, 'bad input').exception()) as Error & { code?: string };
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.message, error.code]).toEqual(['FixtureError', 'bad input', 'E_FIXTURE']);
    await expect(ex.submit({ module: TASKS, export: 'missing' }).result()).rejects.toThrow('has no function export named "missing"');
    await expect(ex.submit({ module: TASKS, export: 'notAFunction' }).result()).rejects.toThrow(TypeError);
    await expect(ex.submit({ module: TASKS, export: 'unsendable' }).result()).rejects.toThrow('cannot be sent to the main thread');
    await expect(ex.submit({ module: TASKS, export: 'add' }, () => 'a function').result()).rejects.toThrow(/could not be cloned/);
    await expect(ex.submit({ module: '/no/such/module.mjs' }).result()).rejects.toThrow(/Cannot find module|ERR_MODULE_NOT_FOUND/);
    // The same worker served all of these.
    expect(ex.stats().workers).toBe(1);
  });

  test('a crashed worker fails its task and is replaced', async () => {
    const ex = executor({ workerThreads: 1 });
    const before = await ex.submit<number>({ module: TASKS }).result();
    const error = (await ex.submit({ module: TASKS, export: 'crash' }).exception()) as WorkerExitError;
    expect(error).toBeInstanceOf(WorkerExitError);
    expect(error.exitCode).toBe(1);
    expect((error.cause as Error).message).toBe('boom in a timer');
    const exited = (await ex.submit({ module: TASKS, export: 'exit' }, 7).exception()) as WorkerExitError;
    expect([exited.exitCode, exited.message]).toEqual([7, 'the worker thread running the task exited with code 7']);
    const after = await ex.submit<number>({ module: TASKS }).result();
    expect(after).not.toBe(before);
    expect(ex.stats().workers).toBe(1);
  });

  test('refused: worker tasks without worker threads, relative modules, other values', () => {
    const ex = executor();
    expect(() => ex.submit({ module: TASKS, export: 'add' })).toThrow(/no worker threads \(set workerThreads above 0\)/);
    const withWorkers = executor({ workerThreads: 1 });
    expect(() => withWorkers.submit({ module: './futures-tasks.mjs' })).toThrow(/absolute path or a URL/);
    expect(() => withWorkers.submit(42 as never)).toThrow(TypeError);
    expect(() => new Executor({ threads: 0 })).toThrow(/threads must be a whole number of at least 1/);
    expect(() => new Executor({ workerThreads: 1.5 })).toThrow(/workerThreads/);
    expect(() => ex.submit(() => 1).remember('x', -1)).toThrow(RangeError);
  });
});

describe('FuturesMiddleware on a server', () => {
  test('every request sees the same executor and futures: submit and remember in one, read in another', async () => {
    const seen: unknown[] = [];
    const app = FuturesMiddleware(async (environ, startResponse) => {
      const { 'wsgiorg.executor': executor, 'wsgiorg.futures': futures } = environ as Environ & FuturesEnviron;
      seen.push(executor, futures);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      if (environ.PATH_INFO === '/start') {
        executor.submit(async (n: number) => n * 2, Number(environ.QUERY_STRING)).remember('double');
        return ['started'];
      }
      const future = futures.get('double');
      return [future === undefined ? 'none' : String(await future.result(2))];
    }, 2);
    onTestFinished(() => app.executor.shutdown());
    const { port } = await serve(app);
    const client = await RawClient.connect(port);
    expect(await get(client, '/start?21')).toEqual({ status: 200, body: 'started' });
    const other = await RawClient.connect(port);
    expect(await get(other, '/result')).toEqual({ status: 200, body: '42' });
    expect(app.executor.threads).toBe(2);
    expect(seen).toEqual([app.executor, app.executor.futures, app.executor, app.executor.futures]);
    client.destroy();
    other.destroy();
  });

  test('a CPU-bound worker task does not stop other requests from being answered', async () => {
    // flag[0]: 0 before the worker's loop, 1 while it spins, 2 after.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const app = FuturesMiddleware(
      async (environ, startResponse) => {
        const { 'wsgiorg.executor': executor } = environ as Environ & FuturesEnviron;
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        if (environ.PATH_INFO === '/spin') {
          const result = await executor.submit<{ threadId: number }>({ module: TASKS, export: 'spin' }, flag, 1000).result();
          return [JSON.stringify(result)];
        }
        return [String(Atomics.load(flag, 0))];
      },
      { workerThreads: 1 },
    );
    onTestFinished(() => app.executor.shutdown());
    const { port } = await serve(app);
    const spinner = await RawClient.connect(port);
    const pinger = await RawClient.connect(port);
    const events: string[] = [];
    let spinDone = false;
    await spinner.write('GET /spin HTTP/1.1\r\nHost: t\r\n\r\n');
    const spun = spinner.readResponse().then((response) => {
      spinDone = true;
      events.push('spin answered');
      return JSON.parse(response.body.toString()) as { threadId: number };
    });
    let whileSpinning = 0;
    for (let i = 0; !spinDone && i < 100_000; i++) {
      const { body } = await get(pinger, '/ping');
      if (body === '1') {
        whileSpinning++;
        if (whileSpinning <= 5) events.push('ping answered while the worker spins');
      }
    }
    const result = await spun;
    expect(result.threadId).not.toBe(threadId);
    expect(whileSpinning).toBeGreaterThanOrEqual(5);
    expect(events).toEqual([...Array<string>(5).fill('ping answered while the worker spins'), 'spin answered']);
    spinner.destroy();
    pinger.destroy();
  });
});

const DIST = fileURLToPath(new URL('../../dist/apps/futures.js', import.meta.url));

test.skipIf(!existsSync(DIST))('from dist, with idle workers and pending timers left behind, the process still exits', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../fixtures/futures-exit.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 4000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(JSON.parse(stdout)).toEqual({ sums: [5, 9], workers: 2, remembered: ['kept'] });
});

describe("appInfo.futures on a Rocket (Rocket's own switch)", () => {
  test('a future remembered in one request is read in the next, also after a restart; stop() shuts the executor down', async () => {
    const { Rocket } = await import('@rocketserver/core');
    const { memoryLogger } = await import('../helpers/server.js');
    const app = async (environ: Environ, start: (status: string, headers: [string, string][]) => unknown) => {
      const executor = environ['wsgiorg.executor'] as Executor;
      const futures = environ['wsgiorg.futures'] as Map<string, Future<unknown>>;
      let body: string;
      if (environ.PATH_INFO === '/submit') {
        executor.submit((a: number, b: number) => a + b, 2, 3).remember(String(environ.QUERY_STRING));
        body = 'submitted';
      } else {
        const future = futures.get(String(environ.QUERY_STRING));
        body = future === undefined ? 'unknown' : String(await future.result(5));
      }
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [body];
    };
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app as never, futures: true }, { logger: memoryLogger(), handleSignals: false, futuresThreads: 2 });
    await server.start();
    const ask = async (path: string) => {
      const client = await RawClient.connect(server.addresses[0]!.port);
      await client.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      const body = (await client.readResponse()).body.toString();
      client.destroy();
      return body;
    };
    try {
      const executor = server.executor!;
      expect(executor.threads).toBe(2);
      expect(await ask('/submit?sum')).toBe('submitted');
      expect(await ask('/result?sum')).toBe('5');
      await server.restart();
      expect(server.executor).toBe(executor);
      expect(await ask('/result?sum')).toBe('5');
      expect(await ask('/submit?after')).toBe('submitted');
      expect(await ask('/result?after')).toBe('5');
      await server.stop();
      expect(executor.isShutdown).toBe(true);
      await server.start();
      expect(server.executor).not.toBe(executor);
      expect(await ask('/result?sum')).toBe('unknown');
    } finally {
      await server.stop();
    }
  });
});
