/**
 * The worker threads behind an Executor's worker tasks: a pool of at most `size` threads, started
 * when first needed and reused, each running one task at a time. The executor keeps the queue and
 * decides what runs next; this module owns the threads and their messages.
 *
 *     main thread                                   worker thread
 *     run(job) ──▶ postMessage {id, url, name, args} ──▶ import(url)[name](...args)
 *     done(outcome) ◀── {id, ok, value | error} ◀────────┘
 *     done(WorkerExitError) ◀── 'exit' before a reply (crash, process.exit, terminate)
 *
 * A worker is referenced only while it runs a task, so an idle pool never keeps the process alive.
 */

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A function to run in a worker thread: the export `export` (default `'default'`) of `module`,
 * an absolute path or a URL (`file:`, `data:`). The worker imports the module with plain Node, so
 * it must be JavaScript (`.mjs`, `.js`, `.cjs`); each worker imports it once.
 *
 * @example
 * executor.submit({ module: new URL('./thumbnail.mjs', import.meta.url), export: 'thumbnail' }, bytes, 128);
 */
export interface WorkerTask {
  module: string | URL;
  export?: string;
}

/** A worker task ready to post: the module as a URL. */
export interface WorkerJob {
  readonly url: string;
  readonly name: string;
  readonly args: unknown[];
}

export type WorkerOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * A worker task fails with this when its worker thread exits before answering: the task crashed it
 * (an uncaught error, `process.exit()`), or `shutdown()` terminated it. `cause` is the worker's
 * uncaught error, if any. The pool starts a new worker for the next task.
 *
 * @example
 * const error = await future.exception(); // WorkerExitError: … exited with code 1 { cause: Error('boom') }
 */
export class WorkerExitError extends Error {
  readonly code = 'ROCKET_ERR_WORKER_EXIT';
  readonly exitCode: number;

  constructor(message: string, exitCode: number, cause: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WorkerExitError';
    this.exitCode = exitCode;
  }
}

/**
 * The worker side, evaluated by each worker thread (as a script, so no compiled file has to sit
 * beside this one: it works the same from `dist` and from sources run by a test runner). Error
 * names and codes travel beside the error: structured clone keeps only the message and stack.
 */
const BOOTSTRAP = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ id, url, name, args }) => {
  let reply;
  try {
    const exported = (await import(url))[name];
    if (typeof exported !== 'function') throw new TypeError(url + ' has no function export named "' + name + '"');
    reply = { id, ok: true, value: await exported(...args) };
  } catch (error) {
    reply = { id, ok: false, error, name: error == null ? undefined : error.name, code: error == null ? undefined : error.code };
  }
  try {
    parentPort.postMessage(reply);
  } catch (cloneError) {
    const what = reply.ok ? 'returned a value' : 'threw a value';
    parentPort.postMessage({ id, ok: false, error: new TypeError('the task ' + what + ' that cannot be sent to the main thread: ' + cloneError.message), name: 'TypeError' });
  }
});
`;

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: unknown;
  name?: unknown;
  code?: unknown;
}

interface Slot {
  readonly worker: Worker;
  /** Told the outcome of the task it runs; null when idle. */
  done: ((outcome: WorkerOutcome) => void) | null;
  /** The id of the message in flight. */
  id: number;
  /** An uncaught error the worker reported before it exited. */
  crash: unknown;
  /** terminate() is ending it. */
  terminating: boolean;
}

/**
 * @example
 * const threads = new WorkerThreads(2, () => pumpQueue());
 * if (threads.canRun) threads.run({ url, name: 'hash', args: [data] }, (outcome) => settle(outcome));
 */
export class WorkerThreads {
  readonly size: number;
  readonly #slots: Slot[] = [];
  /** Called when a worker is free again (it answered, or exited): the next task may run. */
  readonly #freed: () => void;
  #nextId = 0;

  constructor(size: number, freed: () => void) {
    this.size = size;
    this.#freed = freed;
  }

  /** Workers alive. */
  get alive(): number {
    return this.#slots.length;
  }

  /** Workers running a task. */
  get busy(): number {
    let busy = 0;
    for (const slot of this.#slots) if (slot.done !== null) busy++;
    return busy;
  }

  /** A task can start now: a worker is idle, or there is room for another. */
  get canRun(): boolean {
    return this.#slots.length < this.size || this.#slots.some(isIdle);
  }

  /**
   * Post `job` to an idle worker, starting one if needed; `done` is called once with its outcome.
   *
   * @throws when the job never ran: a worker could not start, or an argument cannot be cloned.
   */
  run(job: WorkerJob, done: (outcome: WorkerOutcome) => void): void {
    const slot = this.#slots.find(isIdle) ?? this.#spawn();
    slot.id = ++this.#nextId;
    slot.worker.postMessage({ id: slot.id, url: job.url, name: job.name, args: job.args });
    slot.done = done;
    slot.worker.ref();
  }

  /** End every worker now; a task still running fails with {@link WorkerExitError}. */
  async terminate(): Promise<void> {
    await Promise.all(
      this.#slots.map((slot) => {
        slot.terminating = true;
        return slot.worker.terminate();
      }),
    );
  }

  #spawn(): Slot {
    if (this.#slots.length >= this.size) throw new Error('no idle worker thread (check canRun first)');
    const worker = new Worker(BOOTSTRAP, { eval: true });
    worker.unref();
    const slot: Slot = { worker, done: null, id: 0, crash: undefined, terminating: false };
    worker.on('message', (reply: Reply) => this.#replied(slot, reply));
    // Without a listener, a worker's uncaught error would be thrown on the main thread.
    worker.on('error', (error) => {
      slot.crash = error;
    });
    worker.on('exit', (exitCode) => this.#exited(slot, exitCode));
    this.#slots.push(slot);
    return slot;
  }

  #replied(slot: Slot, reply: Reply): void {
    const done = slot.done;
    if (done === null || reply.id !== slot.id) return;
    slot.done = null;
    slot.worker.unref();
    done(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: restoreError(reply) });
    this.#freed();
  }

  #exited(slot: Slot, exitCode: number): void {
    const at = this.#slots.indexOf(slot);
    if (at !== -1) this.#slots.splice(at, 1);
    const done = slot.done;
    slot.done = null;
    if (done !== null) {
      const message = slot.terminating
        ? 'the executor shut down while the task ran in a worker thread'
        : `the worker thread running the task exited with code ${exitCode}`;
      done({ ok: false, error: new WorkerExitError(message, exitCode, slot.crash) });
    }
    // Its replacement starts when a task needs it.
    this.#freed();
  }
}

/** The URL and export name of a worker task. */
export function resolveTask(task: WorkerTask): { url: string; name: string } {
  if (task === null || typeof task !== 'object' || !('module' in task)) {
    throw new TypeError('submit() takes a function, or a worker task { module, export }');
  }
  const { module } = task;
  let url: string;
  if (module instanceof URL) url = module.href;
  else if (typeof module === 'string' && isAbsolute(module)) url = pathToFileURL(module).href;
  // Two letters at least, so that a Windows drive (C:) is not taken for a scheme.
  else if (typeof module === 'string' && /^[a-z][a-z\d+.-]+:/i.test(module)) url = module;
  else throw new TypeError(`a worker task's module must be an absolute path or a URL, not ${JSON.stringify(module)}`);
  const name = task.export ?? 'default';
  if (typeof name !== 'string') throw new TypeError(`a worker task's export must be a string, not ${typeof name}`);
  return { url, name };
}

function isIdle(slot: Slot): boolean {
  return slot.done === null && !slot.terminating;
}

/** Give a cloned error back the name and code that structured clone dropped. */
function restoreError(reply: Reply): unknown {
  const error = reply.error;
  if (error instanceof Error) {
    if (typeof reply.name === 'string' && error.name !== reply.name) error.name = reply.name;
    if (reply.code !== undefined) (error as Error & { code?: unknown }).code = reply.code;
  }
  return error;
}
