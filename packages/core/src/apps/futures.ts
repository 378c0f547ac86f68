/**
 * Futures: work an app hands off to run beside or after its request, after Rocket's draft
 * `wsgiorg.executor` extension (`WSGIExecutor`, `WSGIFuture`, `FuturesMiddleware`).
 *
 * An {@link Executor} runs two kinds of task:
 *
 * - a **function**, `submit(fn, ...args)`, on the main thread. JavaScript has one thread, so
 *   `threads` is a concurrency limit: at most that many tasks are in progress (an async task holds
 *   its slot until its promise settles); the rest wait in order. Good for I/O-bound work.
 * - a **worker task**, `submit({ module, export }, ...args)`: the named export of a module, run in
 *   a pool of `workerThreads` worker threads, so CPU-bound work does not stall the server. Arguments
 *   and results cross by structured clone. Each worker runs one task at a time.
 *
 * The life of a task:
 *
 *     submit ──▶ pending ──slot free──▶ running ──▶ finished | failed
 *                   │
 *                   └── cancel(), its lifespan ran out while it waited, or shutdown() ──▶ cancelled
 *
 *     remember(name) ─▶ in `futures` until forget(), or until `lifespan` seconds after it is done
 *                       (or after remember(), if it was done already)
 *
 * Two of Rocket's bugs are fixed on purpose: remembered futures stayed in the shared dict forever
 * (they now expire), and `stop()` shut the executor down for good, so `restart()` broke it (an
 * executor now lives until `shutdown()`, which only a final stop calls).
 *
 * Nothing here keeps the process alive: lifespan timers are unref'd, and a worker thread is
 * unref'd whenever it has no task.
 */

import { performance } from 'node:perf_hooks';
import type { Environ } from '../gateway/environ.js';
import { RocketError } from '../errors.js';
import { WorkerThreads, resolveTask, type WorkerJob, type WorkerTask } from './futures-worker.js';
import type { GatewayApp } from '../gateway/run-app.js';
import type { StartResponse } from '../gateway/response.js';

/** The environ key of the executor. */
export const EXECUTOR_KEY = 'wsgiorg.executor';
/** The environ key of the executor's remembered futures. */
export const FUTURES_KEY = 'wsgiorg.futures';

/** What `FuturesMiddleware` (or a server with futures on) adds to each environ. */
export interface FuturesEnviron {
  'wsgiorg.executor': Executor;
  'wsgiorg.futures': Map<string, Future>;
}

/** Rocket's `FuturesMiddleware(app, threads=5)`. */
const DEFAULT_THREADS = 5;
/** Rocket's `WSGIFuture._lifespan`, in seconds. */
const DEFAULT_LIFESPAN = 30;
/** The longest lifespan or timeout a timer can hold (2^31 - 1 ms); a longer one would fire at once. */
const MAX_SECONDS = 2_147_483;

export interface ExecutorOptions {
  /** Main-thread tasks in progress at once. Default 5. */
  threads?: number;
  /** Worker threads for worker tasks, started when first needed. Default 0: worker tasks are refused. */
  workerThreads?: number;
  /** Seconds a task may wait to start, and a remembered future stays once done. Default 30. */
  lifespan?: number;
  /** Where an error thrown by a done callback is reported. Default: `process.emitWarning`. */
  logger?: { error(message: string): void };
}

export interface ExecutorStats {
  threads: number;
  /** Main-thread tasks in progress, and waiting for a slot. */
  running: number;
  queued: number;
  workerThreads: number;
  /** Worker threads alive, and those running a task. */
  workers: number;
  workersBusy: number;
  /** Worker tasks waiting for a worker. */
  workerQueued: number;
  /** Futures in `futures`. */
  remembered: number;
  isShutdown: boolean;
}

/**
 * Thrown by `result()` and `exception()` of a cancelled future; the message says why (`cancel()`,
 * its lifespan, shutdown).
 *
 * @example
 * try { await future.result(); } catch (error) { if (error instanceof CancelledError) retryLater(); }
 */
export class CancelledError extends Error {
  readonly code = 'ROCKET_ERR_FUTURE_CANCELLED';

  constructor(message = 'the future was cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * Thrown by `result(timeout)` and `exception(timeout)` when the future is not done in time.
 *
 * @example
 * const report = await future.result(2).catch((error) => (error instanceof TimeoutError ? null : Promise.reject(error)));
 */
export class TimeoutError extends Error {
  readonly code = 'ROCKET_ERR_FUTURE_TIMEOUT';

  constructor(seconds: number) {
    super(`the future was not done within ${seconds} s`);
    this.name = 'TimeoutError';
  }
}

type Status = 'pending' | 'running' | 'finished' | 'failed' | 'cancelled';

/** What an executor shares with each of its futures. */
interface Shared {
  readonly futures: Map<string, Future>;
  readonly logger: { error(message: string): void };
  isShutdown: boolean;
}

type Job =
  | { readonly kind: 'here'; readonly fn: (...args: unknown[]) => unknown; readonly args: unknown[] }
  | ({ readonly kind: 'worker' } & WorkerJob);

interface FutureState {
  status: Status;
  /** The result when finished; the error when failed; why, when cancelled. */
  outcome: unknown;
  readonly shared: Shared;
  /** Dropped once the task starts, so its arguments can be collected. */
  job: Job | null;
  /** Seconds. */
  lifespan: number;
  /** performance.now() at submit. */
  readonly submittedAt: number;
  /** The queue the task waits in, while pending. */
  queue: Set<Future> | null;
  /** Cancels the task if it is still waiting when its lifespan ends. Armed only if it had to wait. */
  deadline: NodeJS.Timeout | null;
  /** The name it is remembered by. */
  name: string | null;
  /** Forgets it, `lifespan` seconds after it is done and remembered. */
  expiry: NodeJS.Timeout | null;
  /** null once done. */
  callbacks: Array<(future: Future) => void> | null;
}

let stateOf: (future: Future) => FutureState;
let createFuture: (state: FutureState) => Future;

/**
 * The eventual outcome of a submitted task (Rocket's `WSGIFuture`). Not a thenable, on purpose:
 * `await future.result()` says what is awaited, and a future stored in `futures` is not unwrapped
 * by accident.
 *
 * @example
 * const future = executor.submit(fetchReport, id).remember(`report:${id}`);
 * // … later, maybe in another request:
 * const report = await environ['wsgiorg.futures'].get(`report:${id}`)?.result(5);
 */
export class Future<T = unknown> {
  readonly #state: FutureState;

  private constructor(state: FutureState) {
    this.#state = state;
  }

  static {
    stateOf = (future) => future.#state;
    createFuture = (state) => new Future(state);
  }

  /** The task finished, failed or was cancelled. */
  done(): boolean {
    const status = this.#state.status;
    return status === 'finished' || status === 'failed' || status === 'cancelled';
  }

  running(): boolean {
    return this.#state.status === 'running';
  }

  cancelled(): boolean {
    return this.#state.status === 'cancelled';
  }

  /**
   * Cancel the task if it has not started. True if it is cancelled now (or already was); false if
   * it is running or done — a running task cannot be stopped.
   */
  cancel(): boolean {
    const state = this.#state;
    if (state.status === 'cancelled') return true;
    if (state.status !== 'pending') return false;
    settle(this, 'cancelled', 'the future was cancelled');
    return true;
  }

  /**
   * The task's result, once it is done. Rejects with what the task threw, with a
   * {@link CancelledError} if it was cancelled, or with a {@link TimeoutError} if it is not done
   * within `timeout` seconds (the task itself goes on).
   */
  result(timeout?: number): Promise<T> {
    return this.#whenDone(timeout).then(() => {
      const state = this.#state;
      if (state.status === 'cancelled') throw new CancelledError(state.outcome as string);
      if (state.status === 'failed') throw state.outcome;
      return state.outcome as T;
    });
  }

  /**
   * What the task threw, once it is done; `undefined` if it returned. Rejects like `result()` when
   * cancelled or on timeout.
   */
  exception(timeout?: number): Promise<unknown> {
    return this.#whenDone(timeout).then(() => {
      const state = this.#state;
      if (state.status === 'cancelled') throw new CancelledError(state.outcome as string);
      return state.status === 'failed' ? state.outcome : undefined;
    });
  }

  /**
   * Call `fn(future)` once the future is done — at once if it is already. An error `fn` throws is
   * reported to the executor's logger and otherwise ignored.
   */
  addDoneCallback(fn: (future: Future<T>) => void): void {
    const callbacks = this.#state.callbacks;
    if (callbacks === null) callDone(this, fn as (future: Future) => void);
    else callbacks.push(fn as (future: Future) => void);
  }

  /**
   * Keep this future in the executor's `futures` under `name`, so that later requests can find
   * it; `lifespan` (seconds) replaces its lifespan. It is forgotten by `forget()`, or `lifespan`
   * seconds after it is done (`Infinity`: only by `forget()`).
   *
   * @throws Error if another future is remembered by `name`.
   */
  remember(name: string, lifespan?: number): this {
    const state = this.#state;
    const futures = state.shared.futures;
    const holder = futures.get(name);
    if (holder !== undefined && holder !== this) {
      throw Object.assign(new Error(`Cannot remember future by name "${name}".  A future already exists with that name.`), {
        code: 'ROCKET_ERR_FUTURE_NAME',
      });
    }
    if (lifespan !== undefined) {
      state.lifespan = checkSeconds(lifespan, 'lifespan');
      if (state.deadline !== null) armDeadline(this, state.submittedAt + lifespan * 1000 - performance.now());
    }
    if (state.name !== null && state.name !== name) this.forget();
    state.name = name;
    futures.set(name, this);
    if (this.done()) armExpiry(this);
    return this;
  }

  /** Remove this future from `futures`. */
  forget(): void {
    const state = this.#state;
    if (state.expiry !== null) clearTimeout(state.expiry);
    state.expiry = null;
    if (state.name !== null && state.shared.futures.get(state.name) === this) state.shared.futures.delete(state.name);
    state.name = null;
  }

  #whenDone(timeout: number | undefined): Promise<void> {
    if (timeout !== undefined) {
      try {
        checkSeconds(timeout, 'timeout');
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const callbacks = this.#state.callbacks;
    if (callbacks === null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const wake = () => {
        if (timer !== null) clearTimeout(timer);
        resolve();
      };
      callbacks.push(wake);
      if (timeout !== undefined && timeout !== Infinity) {
        timer = setTimeout(() => {
          const at = callbacks.indexOf(wake);
          if (at !== -1) callbacks.splice(at, 1);
          reject(new TimeoutError(timeout));
        }, timeout * 1000);
      }
    });
  }
}

/** Take a pending future out of its queue as it starts. False if it is not pending any more. */
function start(future: Future): Job | null {
  const state = stateOf(future);
  if (state.status !== 'pending') return null;
  state.status = 'running';
  state.queue?.delete(future);
  state.queue = null;
  if (state.deadline !== null) clearTimeout(state.deadline);
  state.deadline = null;
  const job = state.job;
  state.job = null;
  return job;
}

function settle(future: Future, status: 'finished' | 'failed' | 'cancelled', outcome: unknown): void {
  const state = stateOf(future);
  const callbacks = state.callbacks;
  if (callbacks === null) return;
  state.status = status;
  state.outcome = outcome;
  state.job = null;
  state.queue?.delete(future);
  state.queue = null;
  if (state.deadline !== null) clearTimeout(state.deadline);
  state.deadline = null;
  state.callbacks = null;
  if (state.name !== null) armExpiry(future);
  for (const callback of callbacks) callDone(future, callback);
}

function callDone(future: Future, callback: (future: Future) => void): void {
  try {
    callback(future);
  } catch (error) {
    stateOf(future).shared.logger.error(`a done callback of a future threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

/** (Re)arm the timer that cancels a waiting task when its lifespan ends, `ms` from now. */
function armDeadline(future: Future, ms: number): void {
  const state = stateOf(future);
  if (state.deadline !== null) clearTimeout(state.deadline);
  state.deadline = null;
  if (state.lifespan === Infinity) return;
  const lifespan = state.lifespan;
  state.deadline = setTimeout(() => {
    state.deadline = null;
    settle(future, 'cancelled', `the task did not start within its lifespan of ${lifespan} s`);
  }, Math.max(0, ms));
  state.deadline.unref();
}

/** (Re)arm the timer that forgets a remembered future that is done: one lifespan from now. */
function armExpiry(future: Future): void {
  const state = stateOf(future);
  if (state.expiry !== null) clearTimeout(state.expiry);
  state.expiry = null;
  // After shutdown no timer may be left behind; `futures` was emptied then anyway.
  if (state.lifespan === Infinity || state.shared.isShutdown) return;
  state.expiry = setTimeout(() => {
    state.expiry = null;
    future.forget();
  }, state.lifespan * 1000);
  state.expiry.unref();
}

/**
 * Runs submitted tasks, on the main thread under a concurrency limit or in worker threads (Rocket's
 * `WSGIExecutor`). `futures` is a `Map` (name → {@link Future}) rather than Python's dict or a
 * plain object, so that any name is safe (`__proto__`, `constructor`); it is the same object for
 * every request.
 *
 * An executor lives until `shutdown()`. A server restart must not call it; a server that is started
 * again after a final stop makes a new executor.
 *
 * @example
 * const executor = new Executor({ threads: 5, workerThreads: 2 });
 * const sent = executor.submit(async (to) => mailer.send(to), 'ops@example.com');
 * const hash = executor.submit({ module: new URL('./hash.mjs', import.meta.url), export: 'hash' }, data);
 * console.log(await hash.result());
 * await executor.shutdown({ wait: true });
 */
export class Executor {
  readonly threads: number;
  readonly workerThreads: number;
  /** The lifespan a future starts with, in seconds. */
  readonly lifespan: number;
  /** Remembered futures, by name. */
  readonly futures = new Map<string, Future>();
  readonly #shared: Shared;
  /** Main-thread tasks waiting for a slot, in order; and those in progress. */
  readonly #queue = new Set<Future>();
  readonly #running = new Set<Future>();
  /** Worker tasks waiting for a worker, in order; and those running in one. */
  readonly #workerQueue = new Set<Future>();
  readonly #inWorkers = new Set<Future>();
  readonly #workers: WorkerThreads;
  #pumpScheduled = false;

  constructor(options: ExecutorOptions = {}) {
    this.threads = checkCount(options.threads ?? DEFAULT_THREADS, 'threads', 1);
    this.workerThreads = checkCount(options.workerThreads ?? 0, 'workerThreads', 0);
    const lifespan = options.lifespan ?? DEFAULT_LIFESPAN;
    if (typeof lifespan !== 'number' || !(lifespan >= 0) || (lifespan > MAX_SECONDS && lifespan !== Infinity)) {
      throw new RocketError('ROCKET_ERR_INVALID_OPTION', `lifespan must be from 0 to ${MAX_SECONDS} seconds, or Infinity; got ${String(lifespan)}`);
    }
    this.lifespan = lifespan;
    this.#workers = new WorkerThreads(this.workerThreads, () => this.#pumpWorkers());
    this.#shared = {
      futures: this.futures,
      logger: options.logger ?? { error: (message) => process.emitWarning(message) },
      isShutdown: false,
    };
  }

  /** True once `shutdown()` was called: `submit()` throws. */
  get isShutdown(): boolean {
    return this.#shared.isShutdown;
  }

  /**
   * Run `fn(...args)` on the main thread, once fewer than `threads` tasks are in progress; or run a
   * {@link WorkerTask} in a worker thread. A task that waits longer than its lifespan is cancelled.
   * Tasks start on a later turn of the event loop, never inside `submit()`; a synchronous function
   * ends its turn, so that I/O is served between two of them.
   *
   * @throws RocketError after `shutdown()`, or for a worker task when `workerThreads` is 0.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  submit<R = unknown>(task: WorkerTask, ...args: unknown[]): Future<R>;
  submit(fnOrTask: ((...args: unknown[]) => unknown) | WorkerTask, ...args: unknown[]): Future {
    if (this.#shared.isShutdown) throw new RocketError('ROCKET_ERR_STATE', 'Cannot schedule new futures after shutdown');
    let job: Job;
    let queue: Set<Future>;
    let mustWait: boolean;
    if (typeof fnOrTask === 'function') {
      job = { kind: 'here', fn: fnOrTask, args };
      queue = this.#queue;
      mustWait = this.#running.size + queue.size >= this.threads;
    } else {
      const { url, name } = resolveTask(fnOrTask);
      if (this.workerThreads === 0) {
        throw new RocketError('ROCKET_ERR_INVALID_OPTION', `cannot run ${name} of ${url}: this executor has no worker threads (set workerThreads above 0)`);
      }
      job = { kind: 'worker', url, name, args };
      queue = this.#workerQueue;
      mustWait = this.#inWorkers.size + queue.size >= this.workerThreads;
    }
    const future = createFuture({
      status: 'pending',
      outcome: undefined,
      shared: this.#shared,
      job,
      lifespan: this.lifespan,
      submittedAt: performance.now(),
      queue,
      deadline: null,
      name: null,
      expiry: null,
      callbacks: [],
    });
    queue.add(future);
    if (mustWait) armDeadline(future, this.lifespan * 1000);
    this.#schedulePump();
    return future;
  }

  /**
   * Stop for good: `submit()` throws from now on, tasks not started are cancelled, `futures` is
   * emptied, and worker threads are terminated — at once (a task running in one fails with
   * {@link WorkerExitError}), or with `wait`, after every running task is done. Main-thread tasks
   * already running cannot be stopped; `wait` waits for them too. Resolves when all that is done.
   */
  async shutdown(options: { wait?: boolean } = {}): Promise<void> {
    const shared = this.#shared;
    if (!shared.isShutdown) {
      shared.isShutdown = true;
      for (const queue of [this.#queue, this.#workerQueue]) {
        for (const future of [...queue]) settle(future, 'cancelled', 'the executor shut down before the task started');
      }
      for (const future of [...this.futures.values()]) future.forget();
    }
    if (options.wait === true) {
      const running = [...this.#running, ...this.#inWorkers];
      await Promise.all(running.map((future) => new Promise<void>((resolve) => future.addDoneCallback(() => resolve()))));
    }
    await this.#workers.terminate();
  }

  stats(): ExecutorStats {
    return {
      threads: this.threads,
      running: this.#running.size,
      queued: this.#queue.size,
      workerThreads: this.workerThreads,
      workers: this.#workers.alive,
      workersBusy: this.#inWorkers.size,
      workerQueued: this.#workerQueue.size,
      remembered: this.futures.size,
      isShutdown: this.#shared.isShutdown,
    };
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Start what waits and has a slot. */
  #pump(): void {
    if (this.#shared.isShutdown) return;
    this.#pumpWorkers();
    while (this.#running.size < this.threads && this.#queue.size > 0) {
      const [future] = this.#queue;
      if (this.#runHere(future!)) {
        if (this.#queue.size > 0) this.#schedulePump();
        return;
      }
    }
  }

  /** Run a main-thread task. True if it ran synchronously (and is done). */
  #runHere(future: Future): boolean {
    const job = start(future) as Extract<Job, { kind: 'here' }>;
    this.#running.add(future);
    let returned: unknown;
    try {
      returned = job.fn(...job.args);
    } catch (error) {
      this.#doneHere(future, 'failed', error);
      return true;
    }
    if (!isThenable(returned)) {
      this.#doneHere(future, 'finished', returned);
      return true;
    }
    Promise.resolve(returned).then(
      (value) => {
        this.#doneHere(future, 'finished', value);
        this.#pump();
      },
      (error: unknown) => {
        this.#doneHere(future, 'failed', error);
        this.#pump();
      },
    );
    return false;
  }

  #doneHere(future: Future, status: 'finished' | 'failed', outcome: unknown): void {
    this.#running.delete(future);
    settle(future, status, outcome);
  }

  #pumpWorkers(): void {
    while (this.#workerQueue.size > 0 && !this.#shared.isShutdown && this.#workers.canRun) {
      const [future] = this.#workerQueue;
      const job = start(future!) as Extract<Job, { kind: 'worker' }>;
      this.#inWorkers.add(future!);
      try {
        this.#workers.run(job, (outcome) => {
          this.#inWorkers.delete(future!);
          settle(future!, outcome.ok ? 'finished' : 'failed', outcome.ok ? outcome.value : outcome.error);
        });
      } catch (error) {
        // A worker could not start, or an argument cannot be cloned (a function, a socket).
        this.#inWorkers.delete(future!);
        settle(future!, 'failed', error);
      }
    }
  }
}

/**
 * Wrap `app` so that every request's environ has `wsgiorg.executor` and `wsgiorg.futures`, from an
 * executor of its own (`threads`, or options). The executor is `middleware.executor`; it is never
 * shut down by the server: call `middleware.executor.shutdown()` when the app is retired.
 *
 * @example
 * const app = FuturesMiddleware(async (environ, startResponse) => {
 *   const { 'wsgiorg.executor': executor } = environ as Environ & FuturesEnviron;
 *   executor.submit(sendWelcomeMail, environ.QUERY_STRING).remember('welcome');
 *   startResponse('202 Accepted', []);
 *   return [];
 * }, { threads: 5, workerThreads: 2 });
 */
export function FuturesMiddleware(app: GatewayApp, options: number | ExecutorOptions = DEFAULT_THREADS): GatewayApp & { readonly executor: Executor } {
  if (typeof app !== 'function') throw new TypeError('FuturesMiddleware needs a gateway app (a function)');
  const executor = new Executor(typeof options === 'number' ? { threads: options } : options);
  const middleware = (environ: Environ, startResponse: StartResponse) => {
    provideFutures(environ, executor);
    return app(environ, startResponse);
  };
  return Object.assign(middleware, { executor });
}

/**
 * Put `executor` and its `futures` in `environ`, as `FuturesMiddleware` does for each request.
 *
 * @example
 * provideFutures(environ, executor); // environ['wsgiorg.executor'], environ['wsgiorg.futures']
 */
export function provideFutures(environ: Environ, executor: Executor): void {
  environ[EXECUTOR_KEY] = executor;
  environ[FUTURES_KEY] = executor.futures;
}

function checkCount(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RocketError('ROCKET_ERR_INVALID_OPTION', `${name} must be a whole number of at least ${min}, not ${String(value)}`);
  }
  return value;
}

function checkSeconds(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0) || (value > MAX_SECONDS && value !== Infinity)) {
    throw new RangeError(`${name} must be from 0 to ${MAX_SECONDS} seconds, or Infinity; got ${String(value)}`);
  }
  return value;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

export { Executor as WSGIExecutor, Future as WSGIFuture };
export { WorkerExitError, type WorkerTask } from './futures-worker.js';
