/**
 * The worker pool, after Rocket's ThreadPool. In Node a worker is not a thread but a slot: a
 * connection holds one while a request of it is being served (from a complete head to the end of
 * its response, and on through pipelined requests already waiting), and gives it back when it goes
 * idle. So `maxThreads` caps how many connections are being served at once; the rest wait, in
 * order, in a bounded queue.
 *
 * Sizing follows Rocket's `dynamic_resize`: the pool starts at `minThreads`; it grows by the queue's
 * length, up to `maxThreads` (0 = no limit), as soon as more than `int(maxThreads / 10) + 2`
 * connections wait; once a second it grows for anything still waiting, or — when nothing waits —
 * shrinks by one towards `minThreads`. A pool with `0 < maxThreads <= minThreads` is fixed.
 *
 *     queue (FIFO, at most queueSize):  [conn] [conn] [conn] ──▶ worker slot ──▶ served
 */

/** A connection, as the pool sees it. */
export interface PoolMember {
  /** A worker was granted to a member that waited in the queue. */
  workerGranted(): void;
}

export interface PoolStats {
  /** Workers (slots) the pool has now. */
  threads: number;
  /** Workers serving a connection. */
  busy: number;
  /** Connections waiting for a worker. */
  queued: number;
  minThreads: number;
  maxThreads: number;
  queueSize: number;
  /** Times the pool grew, and shrank. */
  grown: number;
  shrunk: number;
}

/** How often the pool looks at its queue to resize, in ms (Rocket's THREAD_STOP_CHECK_INTERVAL). */
const RESIZE_INTERVAL = 1000;

/**
 * @example
 * const pool = new WorkerPool({ minThreads: 10, maxThreads: 0, queueSize: 1024 });
 * if (pool.acquire(conn)) serve(); // else conn.workerGranted() is called later
 * pool.release(conn);
 */
export class WorkerPool {
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly queueSize: number;
  readonly #growThreshold: number;
  readonly #resizable: boolean;
  #size: number;
  #busy = 0;
  readonly #queue = new Set<PoolMember>();
  #grown = 0;
  #shrunk = 0;
  #timer: NodeJS.Timeout | null = null;
  /** True while #grant hands out workers (re-entry guard). */
  #granting = false;

  /** Where resizes are told (Rocket's `Rocket.Errors.ThreadPool` channel). */
  log: { debug(message: string): void } | null = null;

  constructor(options: { minThreads: number; maxThreads: number; queueSize: number }) {
    this.minThreads = options.minThreads;
    this.maxThreads = options.maxThreads;
    this.queueSize = options.queueSize;
    this.#growThreshold = Math.floor(options.maxThreads / 10) + 2;
    this.#resizable = options.maxThreads === 0 || options.maxThreads > options.minThreads;
    this.#size = options.minThreads;
  }

  /** True when the queue is full: a new connection is refused with 503. */
  get full(): boolean {
    return this.#queue.size >= this.queueSize && this.#busy >= this.#size;
  }

  /** Take a worker now (true), or join the queue (false) until `workerGranted()`. */
  acquire(member: PoolMember): boolean {
    if (this.#busy < this.#size && this.#queue.size === 0) {
      this.#busy++;
      return true;
    }
    this.#queue.add(member);
    // Without a limit there is no reason to wait: grow at once. With one, grow in bursts once the
    // queue backs up past the threshold (Rocket's rule); below it, wait for a worker or the tick.
    if (this.maxThreads === 0 || this.#queue.size > this.#growThreshold) this.#grow(this.#queue.size);
    return this.#grant(member);
  }

  /** Give a worker back; the next waiting member gets it. */
  release(): void {
    this.#busy--;
    this.#grant(null);
  }

  /** A member left while it waited (its connection closed). */
  remove(member: PoolMember): void {
    this.#queue.delete(member);
  }

  /** Start the once-a-second resize. */
  start(): void {
    if (this.#timer !== null || !this.#resizable) return;
    this.#timer = setInterval(() => this.#resize(), RESIZE_INTERVAL);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  stats(): PoolStats {
    return {
      threads: this.#size,
      busy: this.#busy,
      queued: this.#queue.size,
      minThreads: this.minThreads,
      maxThreads: this.maxThreads,
      queueSize: this.queueSize,
      grown: this.#grown,
      shrunk: this.#shrunk,
    };
  }

  /**
   * Hand free workers to waiting members, first come first served. `self` is the member asking
   * right now: it is told by the return value, the others by `workerGranted()`.
   *
   * A granted member usually runs its request at once, may finish it synchronously and release
   * its worker — which calls back in here. That inner call returns at once and this loop hands the
   * worker on, so a long queue is served iteratively, never by recursion.
   */
  #grant(self: PoolMember | null): boolean {
    if (this.#granting) return false;
    this.#granting = true;
    let granted = false;
    try {
      while (this.#busy < this.#size && this.#queue.size > 0) {
        const [next] = this.#queue;
        this.#queue.delete(next!);
        this.#busy++;
        if (next === self) granted = true;
        else next!.workerGranted();
      }
    } finally {
      this.#granting = false;
    }
    return granted;
  }

  /** Add up to `amount` workers, within `maxThreads`. */
  #grow(amount: number): void {
    if (!this.#resizable) return;
    const room = this.maxThreads === 0 ? amount : Math.min(amount, this.maxThreads - this.#size);
    if (room <= 0) return;
    this.#size += room;
    this.#grown++;
    this.log?.debug(`Growing by ${room}.`);
  }

  /** Rocket's dynamic_resize, once a second. */
  #resize(): void {
    if (this.#queue.size > 0) {
      this.#grow(this.#queue.size);
      this.#grant(null);
    } else if (this.#size > this.minThreads && this.#size > this.#busy) {
      this.#size--;
      this.#shrunk++;
      this.log?.debug('Shrinking by 1.');
    }
  }
}
