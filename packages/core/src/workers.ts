/**
 * Many server processes on Node's `cluster`, as gunicorn's arbiter and puma's cluster mode run
 * them: the process that calls `start()` with `workers` becomes the primary; it forks that many
 * workers, which run the same program and serve, and it supervises them.
 *
 *   primary ──fork──▶ worker 1 … worker N         each: a Rocket, listening (the socket is the
 *      │                                           primary's, shared by cluster, or its own with
 *      │◀── ready · report · metrics? ──────────   reusePort)
 *      └─── stop · snapshot? · metrics ─────────▶
 *
 * - A worker that dies is forked again, after a delay that doubles with each death in a row; a
 *   worker that keeps dying soon after it starts is a crash loop, and the primary gives up and stops.
 * - `stop()` (SIGTERM, SIGINT) asks every worker to stop gracefully and waits for them within the
 *   stop's bound, then kills what is left.
 * - `reload()` (SIGHUP) replaces the workers one at a time: the new one is listening, its app
 *   loaded, before the old one is asked to drain.
 * - SIGTTIN adds a worker, SIGTTOU retires one.
 * - A scrape of the metrics, served by any worker, gathers every worker's numbers through the
 *   primary, each labelled with its worker number.
 *
 * Worker numbers are slots, 1 … N: a replacement takes the number of the worker it replaces, so
 * the `worker` label keeps a bounded set of values.
 */

import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { RocketError } from './errors.js';
import type { BoundAddress } from './engine/listener.js';
import type { MetricsSource } from './observability/metrics.js';
import { WORKER_ENV, workerNumber } from './observability/worker-number.js';
import type { Logger } from './observability/logging.js';

/** A worker that dies within this many ms of being ready counts towards a crash loop. */
const QUICK_EXIT_MS = 5000;
/** Deaths in a row, each soon after starting, after which the primary gives up. */
const CRASH_LOOP_LIMIT = 5;
const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 10_000;
/** Beyond the stop's bound, how long a worker may take to exit before it is killed. */
const EXIT_GRACE_MS = 2000;
/** How often a worker reports its stats to the primary (for the primary's `stats()`). */
const REPORT_MS = 1000;
/** How long a scrape waits for every worker's numbers. */
const GATHER_MS = 2000;

type ToPrimary =
  | { rocket: 'ready'; addresses: BoundAddress[] }
  | { rocket: 'report'; stats: unknown }
  | { rocket: 'gather'; seq: number }
  | { rocket: 'source'; seq: number; source: MetricsSource };

type ToWorker =
  | { rocket: 'stop'; timeout: number; drainDelay?: number }
  | { rocket: 'source?'; seq: number }
  | { rocket: 'gathered'; seq: number; sources: MetricsSource[] };

/** How many workers `workers` asks for: 'auto' is the parallelism the system offers. */
export function workerCount(workers: number | 'auto'): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

/** Node.js versions whose `listen()` takes `reusePort`: 22.12 and later 22s, 23.1 and later. */
export function reusePortSupported(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** @throws {RocketError} when `reusePort` cannot be had on this Node.js. */
export function checkReusePort(): void {
  if (!reusePortSupported()) {
    throw new RocketError(
      'ROCKET_ERR_INVALID_OPTION',
      `option reusePort needs Node.js 22.12 or later (23.1 or later on 23); this is Node.js ${process.versions.node}`,
    );
  }
}

/** What a worker reports of itself; `stats` is its server's `stats()`. */
export interface WorkerReport {
  worker: number;
  pid: number;
  stats: unknown;
}

interface Slot {
  number: number;
  worker: Worker;
  /** When it reported ready (ms), or 0 while it starts. */
  readyAt: number;
  /** Asked to stop: its exit is expected. */
  retiring: boolean;
  report: unknown;
  exited: Promise<void>;
}

export interface SupervisorSettings {
  count: number;
  /** Seconds a worker's stop may take (its `shutdownTimeout`). */
  shutdownTimeout: number;
  logger: Logger;
  /** The primary gave up on a crash loop: the server is stopped. */
  onGiveUp(error: RocketError): void;
}

/**
 * The primary's side: forks, watches and replaces the workers.
 *
 * @example
 * const supervisor = new Supervisor({ count: 4, shutdownTimeout: 30, logger, onGiveUp });
 * const addresses = await supervisor.start();
 * await supervisor.reload();
 * await supervisor.stop();
 */
export class Supervisor {
  readonly #settings: SupervisorSettings;
  /** The workers serving, by number. */
  readonly #slots = new Map<number, Slot>();
  /** Workers being replaced or retired, until they exit. */
  readonly #leaving = new Set<Slot>();
  /** Every worker process until it exits, serving, starting or leaving. */
  readonly #all = new Map<Worker, Slot>();
  #count: number;
  #stopping = false;
  /** Deaths in a row of each worker number, each soon after it started. */
  readonly #quickExits = new Map<number, number>();
  readonly #respawnTimers = new Set<NodeJS.Timeout>();
  #addresses: BoundAddress[] = [];
  #nextSeq = 1;
  #reloading: Promise<void> | null = null;
  readonly #onMessage = (worker: Worker, message: unknown) => this.#message(worker, message);

  constructor(settings: SupervisorSettings) {
    this.#settings = settings;
    this.#count = settings.count;
  }

  get addresses(): BoundAddress[] {
    return this.#addresses;
  }

  /** Workers serving now. */
  get size(): number {
    return this.#slots.size;
  }

  /** Fork every worker; resolves with what they listen on once all are ready. */
  async start(): Promise<BoundAddress[]> {
    cluster.on('message', this.#onMessage);
    const numbers = Array.from({ length: this.#count }, (_, i) => i + 1);
    const results = await Promise.allSettled(numbers.map((n) => this.#spawn(n).then((slot) => void this.#slots.set(n, slot))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await this.stop();
      throw failed.reason;
    }
    return this.#addresses;
  }

  /**
   * Fork worker `number`; resolves when it is ready, rejects if it exits first. Once ready, its
   * death is watched: it is forked again unless it was asked to stop.
   */
  #spawn(number: number): Promise<Slot> {
    const worker = cluster.fork({ [WORKER_ENV]: String(number) });
    let resolveExit!: () => void;
    const slot: Slot = { number, worker, readyAt: 0, retiring: false, report: null, exited: new Promise((r) => (resolveExit = r)) };
    this.#all.set(worker, slot);
    return new Promise<Slot>((resolve, reject) => {
      worker.on('message', (message: ToPrimary) => {
        if (message?.rocket !== 'ready' || slot.readyAt !== 0) return;
        slot.readyAt = Date.now();
        if (this.#addresses.length === 0) this.#addresses = message.addresses;
        resolve(slot);
      });
      worker.on('exit', (code, signal) => {
        resolveExit();
        this.#all.delete(worker);
        this.#leaving.delete(slot);
        if (this.#slots.get(number) === slot) this.#slots.delete(number);
        const how = signal !== null ? `signal ${signal}` : `code ${code}`;
        if (slot.readyAt === 0) {
          reject(new RocketError('ROCKET_ERR_WORKER', `worker ${number} (pid ${worker.process.pid}) exited with ${how} before it was listening`));
          if (!slot.retiring && !this.#stopping && this.#reloading === null) this.#died(number, how, true);
          return;
        }
        if (slot.retiring || this.#stopping) return;
        this.#died(number, how, Date.now() - slot.readyAt < QUICK_EXIT_MS);
      });
    });
  }

  /** A worker died unasked: fork it again, later each time it dies in a row; give up on a crash loop. */
  #died(number: number, how: string, quick: boolean): void {
    const logger = this.#settings.logger;
    const row = quick ? (this.#quickExits.get(number) ?? 0) + 1 : 1;
    this.#quickExits.set(number, row);
    if (row >= CRASH_LOOP_LIMIT) {
      const error = new RocketError(
        'ROCKET_ERR_WORKER',
        `worker ${number} exited ${row} times in a row within ${QUICK_EXIT_MS / 1000} s of starting (last: ${how}); giving up and stopping`,
      );
      logger.error(error.message);
      this.#settings.onGiveUp(error);
      return;
    }
    const delay = Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (row - 1));
    logger.warn(`worker ${number} exited with ${how}; starting it again in ${delay} ms`);
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      if (this.#stopping || this.#slots.has(number) || number > this.#count) return;
      this.#spawn(number).then(
        (slot) => this.#slots.set(number, slot),
        () => {},
      );
    }, delay);
    this.#respawnTimers.add(timer);
  }

  #message(worker: Worker, message: unknown): void {
    const m = message as ToPrimary | null;
    if (typeof m !== 'object' || m === null || typeof m.rocket !== 'string') return;
    const slot = this.#all.get(worker);
    switch (m.rocket) {
      case 'report':
        if (slot !== undefined) slot.report = m.stats;
        return;
      case 'gather':
        void this.#gather().then((sources) => send(worker, { rocket: 'gathered', seq: m.seq, sources }));
        return;
    }
  }

  /** Every serving worker's metrics, fresh; a worker that does not answer in time is left out. */
  async #gather(): Promise<MetricsSource[]> {
    const slots = [...this.#slots.values()].sort((a, b) => a.number - b.number);
    const answers = await Promise.all(slots.map((slot) => this.#askSource(slot)));
    return answers.filter((source): source is MetricsSource => source !== null);
  }

  #askSource(slot: Slot): Promise<MetricsSource | null> {
    const seq = this.#nextSeq++;
    return new Promise((resolve) => {
      const timer = setTimeout(done, GATHER_MS, null);
      function done(source: MetricsSource | null) {
        clearTimeout(timer);
        slot.worker.off('message', onMessage);
        resolve(source);
      }
      function onMessage(message: ToPrimary) {
        if (message?.rocket === 'source' && message.seq === seq) done(message.source);
      }
      slot.worker.on('message', onMessage);
      slot.worker.once('exit', () => done(null));
      if (!send(slot.worker, { rocket: 'source?', seq })) done(null);
    });
  }

  /** The latest report of every serving worker, by worker number. */
  reports(): WorkerReport[] {
    return [...this.#slots.values()]
      .sort((a, b) => a.number - b.number)
      .map((slot) => ({ worker: slot.number, pid: slot.worker.process.pid ?? 0, stats: slot.report }));
  }

  /** Ask a worker to stop gracefully; resolves when it has exited (killed past the bound). */
  #retire(slot: Slot, timeout: number, drainDelay = 0): Promise<void> {
    slot.retiring = true;
    this.#leaving.add(slot);
    if (this.#slots.get(slot.number) === slot) this.#slots.delete(slot.number);
    if (!send(slot.worker, { rocket: 'stop', timeout, drainDelay })) slot.worker.process.kill('SIGTERM');
    const kill = setTimeout(() => {
      this.#settings.logger.warn(`worker ${slot.number} (pid ${slot.worker.process.pid}) did not exit in time; killing it`);
      slot.worker.process.kill('SIGKILL');
    }, (timeout + drainDelay) * 1000 + EXIT_GRACE_MS);
    return slot.exited.finally(() => clearTimeout(kill));
  }

  /**
   * Replace every worker, one at a time: a new worker is listening and its app loaded before the
   * worker it replaces is asked to drain. A new worker that fails to start ends the reload; the
   * old ones keep serving.
   */
  reload(timeout = this.#settings.shutdownTimeout): Promise<void> {
    if (this.#reloading !== null) return this.#reloading;
    this.#reloading = this.#reload(timeout).finally(() => {
      this.#reloading = null;
    });
    return this.#reloading;
  }

  async #reload(timeout: number): Promise<void> {
    for (const number of [...this.#slots.keys()].sort((a, b) => a - b)) {
      if (this.#stopping) return;
      const old = this.#slots.get(number);
      const fresh = await this.#spawn(number);
      if (this.#stopping) {
        await this.#retire(fresh, timeout);
        return;
      }
      this.#slots.set(number, fresh);
      this.#quickExits.delete(number);
      if (old !== undefined) await this.#retire(old, timeout);
    }
  }

  /** One worker more (SIGTTIN). */
  async add(): Promise<void> {
    if (this.#stopping) return;
    const number = ++this.#count;
    const slot = await this.#spawn(number);
    if (this.#stopping || number > this.#count) await this.#retire(slot, this.#settings.shutdownTimeout);
    else this.#slots.set(number, slot);
  }

  /** One worker fewer (SIGTTOU), never below one. */
  async remove(): Promise<void> {
    if (this.#stopping || this.#count <= 1) return;
    const number = this.#count--;
    const slot = this.#slots.get(number);
    if (slot !== undefined) await this.#retire(slot, this.#settings.shutdownTimeout);
  }

  /** Kill every worker now (a second SIGINT). */
  kill(): void {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  }

  /**
   * Stop every worker gracefully within `timeout` seconds (killing what is left after it), each
   * first serving `drainDelay` seconds more with its readiness probe answering 503.
   */
  async stop(timeout = this.#settings.shutdownTimeout, drainDelay = 0): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#respawnTimers) clearTimeout(timer);
    this.#respawnTimers.clear();
    const exits: Promise<void>[] = [];
    for (const slot of this.#all.values()) {
      if (slot.retiring) exits.push(slot.exited);
      else if (slot.readyAt !== 0) exits.push(this.#retire(slot, timeout, drainDelay));
      else {
        // Still starting (a reload, a respawn): stopped as soon as it is ready, if it does not exit first.
        slot.worker.once('message', (message: ToPrimary) => {
          if (message?.rocket === 'ready') void this.#retire(slot, timeout, drainDelay);
        });
        exits.push(slot.exited);
      }
    }
    await Promise.all(exits);
    cluster.off('message', this.#onMessage);
  }
}

function send(worker: Worker, message: ToWorker): boolean {
  if (!worker.isConnected()) return false;
  try {
    // A worker that is leaving on its own (its own stop signal) may close the channel before this
    // write: without a callback, that EPIPE is an 'error' event that ends the primary.
    worker.send(message, () => {});
    return true;
  } catch {
    return false;
  }
}

/** What a worker's server offers the primary. */
export interface WorkerServer {
  readonly addresses: BoundAddress[];
  stop(options: { timeout?: number; drainDelay?: number }): Promise<void>;
  stats(): unknown;
  metricsSource(): MetricsSource;
}

/**
 * The worker's side, once its server listens: tell the primary, report now and then, answer its
 * requests, and stop when asked — or when the primary is gone.
 * @returns a function that detaches it (the server stopped on its own).
 */
export function attachWorker(server: WorkerServer, logger: Logger): () => void {
  const report = () => sendToPrimary({ rocket: 'report', stats: server.stats() });
  const timer = setInterval(report, REPORT_MS);
  timer.unref();
  let stopping = false;
  const stop = (timeout?: number, drainDelay?: number) => {
    if (stopping) return;
    stopping = true;
    server
      .stop({ ...(timeout === undefined ? {} : { timeout }), ...(drainDelay === undefined ? {} : { drainDelay }) })
      .catch((error: unknown) => logger.error(`worker ${workerNumber()}: stop failed: ${String(error)}`))
      .finally(() => {
        // The channel to the primary is all that may keep the process alive now.
        if (process.connected) process.disconnect();
      });
  };
  const onMessage = (message: ToWorker) => {
    if (typeof message !== 'object' || message === null) return;
    if (message.rocket === 'stop') stop(message.timeout, message.drainDelay);
    else if (message.rocket === 'source?') sendToPrimary({ rocket: 'source', seq: message.seq, source: server.metricsSource() });
  };
  const onDisconnect = () => stop();
  process.on('message', onMessage);
  process.on('disconnect', onDisconnect);
  sendToPrimary({ rocket: 'ready', addresses: server.addresses });
  report();
  return () => {
    clearInterval(timer);
    process.off('message', onMessage);
    process.off('disconnect', onDisconnect);
  };
}

const pendingGathers = new Map<number, (sources: MetricsSource[]) => void>();
let nextGather = 1;
let listening = false;

/** Every worker's metrics, through the primary; this worker's own alone if it does not answer. */
export function gatherMetrics(own: () => MetricsSource): Promise<MetricsSource[]> {
  if (!process.connected) return Promise.resolve([own()]);
  if (!listening) {
    listening = true;
    process.on('message', (message: ToWorker) => {
      if (message?.rocket !== 'gathered') return;
      pendingGathers.get(message.seq)?.(message.sources);
    });
  }
  const seq = nextGather++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish([own()]), GATHER_MS + 500);
    function finish(sources: MetricsSource[]) {
      clearTimeout(timer);
      pendingGathers.delete(seq);
      resolve(sources.length > 0 ? sources : [own()]);
    }
    pendingGathers.set(seq, finish);
    sendToPrimary({ rocket: 'gather', seq });
  });
}

function sendToPrimary(message: ToPrimary): void {
  if (process.connected) process.send!(message);
}
