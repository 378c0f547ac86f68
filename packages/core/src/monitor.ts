/**
 * The connection monitor's clock: every connection deadline (idle keep-alive, head, body, linger)
 * lives here, checked by one coarse timer per server, instead of a `setTimeout` per socket per
 * event.
 *
 * Deadlines are kept in one FIFO list per duration. All entries of a list were armed with the same
 * duration at non-decreasing times, so each list is sorted by deadline for free: arming and
 * cancelling are O(1) unlinks and appends, and a tick only looks at the heads of the lists —
 * O(expired), however many connections wait.
 *
 *     lists: 600000 ms → [conn A] ⇄ [conn C] ⇄ [conn F]      (deadlines ascending)
 *              10000 ms → [conn B] ⇄ [conn D]
 */

/** What a connection was waiting for when its deadline passed. */
export const enum TimerKind {
  /** Keep-alive: idle between requests. */
  Idle = 1,
  /** Part of a request head arrived, the rest did not. */
  Head = 2,
  /** The application waits for body bytes that do not come. */
  Body = 3,
  /** A response waits for the client to read. */
  Write = 4,
  /** After an error response, waiting for the client to close. */
  Linger = 5,
}

/** Something with a deadline. The monitor links entries through these fields (an intrusive list). */
export interface TimerEntry {
  timerPrev: TimerEntry | null;
  timerNext: TimerEntry | null;
  timerList: TimerList | null;
  timerDeadline: number;
  timerKind: TimerKind;
  onTimeout(kind: TimerKind): void;
}

class TimerList {
  head: TimerEntry | null = null;
  tail: TimerEntry | null = null;
}

/**
 * @example
 * const monitor = new Monitor(250);
 * monitor.arm(connection, TimerKind.Idle, 600_000);
 * monitor.cancel(connection);
 * monitor.close();
 */
export class Monitor {
  readonly #lists = new Map<number, TimerList>();
  readonly #resolution: number;
  #timer: NodeJS.Timeout | null = null;
  #armed = 0;

  /** @param resolution how often, in ms, deadlines are checked: the precision of every timeout. */
  constructor(resolution: number) {
    this.#resolution = resolution;
  }

  /** Number of armed deadlines. */
  get size(): number {
    return this.#armed;
  }

  /** (Re)arm `entry` to expire `ms` from now; replaces any deadline it had. `ms <= 0` cancels. */
  arm(entry: TimerEntry, kind: TimerKind, ms: number): void {
    if (entry.timerList !== null) this.#unlink(entry);
    if (ms <= 0) return;
    let list = this.#lists.get(ms);
    if (list === undefined) {
      list = new TimerList();
      this.#lists.set(ms, list);
    }
    entry.timerDeadline = Date.now() + ms;
    entry.timerKind = kind;
    entry.timerList = list;
    entry.timerPrev = list.tail;
    entry.timerNext = null;
    if (list.tail === null) list.head = entry;
    else list.tail.timerNext = entry;
    list.tail = entry;
    if (this.#armed++ === 0 && this.#timer === null) this.#start();
  }

  /** Forget `entry`'s deadline, if it has one. Safe to call on every close path. */
  cancel(entry: TimerEntry): void {
    if (entry.timerList !== null) this.#unlink(entry);
  }

  /** Stop the clock. Armed entries stay armed, but nothing fires until the next `arm`. */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#resolution);
    // The monitor never keeps a process alive on its own: listeners and sockets do that.
    this.#timer.unref();
  }

  #tick(): void {
    const now = Date.now();
    for (const list of this.#lists.values()) {
      let entry = list.head;
      while (entry !== null && entry.timerDeadline <= now) {
        this.#unlink(entry);
        entry.onTimeout(entry.timerKind);
        entry = list.head;
      }
    }
    if (this.#armed === 0) this.close();
  }

  #unlink(entry: TimerEntry): void {
    const list = entry.timerList!;
    if (entry.timerPrev === null) list.head = entry.timerNext;
    else entry.timerPrev.timerNext = entry.timerNext;
    if (entry.timerNext === null) list.tail = entry.timerPrev;
    else entry.timerNext.timerPrev = entry.timerPrev;
    entry.timerPrev = entry.timerNext = null;
    entry.timerList = null;
    this.#armed--;
  }
}
