/**
 * The connection monitor's clock: every connection deadline (idle keep-alive, head, body, write,
 * linger) lives in one hashed timer wheel per server, checked by one coarse interval, instead of a
 * `setTimeout` per socket per event.
 *
 * The wheel has SLOTS lists; a deadline d goes into slot floor(d / resolution) mod SLOTS. Each tick
 * looks at the slots whose time has come and fires the entries that are due; entries for a later
 * turn of the wheel stay where they are. Arming and cancelling are O(1) (an intrusive doubly linked
 * list, no allocation), so re-arming on every read costs next to nothing.
 *
 *     slot:   0      1      2      …    1023
 *            [a]⇄[d]  []   [b]         [c]        (a, d due this turn; a later turn for d)
 */

/** What a connection was waiting for when its deadline passed. */
export const enum TimerKind {
  /** Keep-alive: idle between requests. */
  Idle = 1,
  /** A request head is being received. */
  Head = 2,
  /** The application waits for body bytes that do not come. */
  Body = 3,
  /** A response waits for the client to read. */
  Write = 4,
  /** After a response with Connection: close, waiting for the client to close. */
  Linger = 5,
  /** Waiting for a worker. */
  Queue = 6,
}

/** Something with a deadline. The monitor links entries through these fields. */
export interface TimerEntry {
  timerPrev: TimerEntry | null;
  timerNext: TimerEntry | null;
  /** The slot the entry is in, or -1 when it has no deadline. */
  timerSlot: number;
  timerDeadline: number;
  timerKind: TimerKind;
  onTimeout(kind: TimerKind): void;
}

const SLOTS = 1024;

/**
 * @example
 * const monitor = new Monitor(50);
 * monitor.arm(connection, TimerKind.Idle, 600_000);
 * monitor.cancel(connection);
 * monitor.close();
 */
export class Monitor {
  readonly #heads: (TimerEntry | null)[] = new Array(SLOTS).fill(null);
  readonly #resolution: number;
  #timer: NodeJS.Timeout | null = null;
  #armed = 0;
  /** The next tick number (time / resolution) whose slot has not been looked at. */
  #nextTick = 0;

  /** @param resolution how often, in ms, deadlines are checked: the precision of every timeout. */
  constructor(resolution: number) {
    this.#resolution = resolution;
  }

  /** Number of armed deadlines. */
  get size(): number {
    return this.#armed;
  }

  /** The clock's tick, in ms. */
  get resolution(): number {
    return this.#resolution;
  }

  /** (Re)arm `entry` to expire `ms` from now; replaces any deadline it had. `ms <= 0` cancels. */
  arm(entry: TimerEntry, kind: TimerKind, ms: number): void {
    this.armAt(entry, kind, ms > 0 ? Date.now() + ms : 0);
  }

  /** (Re)arm `entry` to expire at `deadline` (ms since the epoch); 0 cancels. */
  armAt(entry: TimerEntry, kind: TimerKind, deadline: number): void {
    if (entry.timerSlot !== -1) this.#unlink(entry);
    if (deadline <= 0) return;
    // An entry never lands in a slot the clock has already passed.
    const tick = Math.max(Math.ceil(deadline / this.#resolution), this.#nextTick);
    const slot = tick % SLOTS;
    entry.timerDeadline = deadline;
    entry.timerKind = kind;
    entry.timerSlot = slot;
    entry.timerPrev = null;
    const head = this.#heads[slot]!;
    entry.timerNext = head;
    if (head !== null) head.timerPrev = entry;
    this.#heads[slot] = entry;
    this.#armed++;
    if (this.#timer === null) this.#start();
  }

  /** Forget `entry`'s deadline, if it has one. Safe to call on every close path. */
  cancel(entry: TimerEntry): void {
    if (entry.timerSlot !== -1) this.#unlink(entry);
  }

  /** Stop the clock. Armed entries stay armed, but nothing fires until the next `arm`. */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #start(): void {
    this.#nextTick = Math.floor(Date.now() / this.#resolution);
    this.#timer = setInterval(() => this.#tick(), this.#resolution);
    // The monitor never keeps a process alive on its own: listeners and sockets do that.
    this.#timer.unref();
  }

  #tick(): void {
    const now = Date.now();
    const last = Math.floor(now / this.#resolution);
    // Catch up on every slot since the last tick (timers can be late under load), at most a turn.
    // Due entries are unlinked first and fired after, so a callback that arms or cancels other
    // entries cannot disturb the walk.
    const due: TimerEntry[] = [];
    for (let tick = Math.max(this.#nextTick, last - SLOTS + 1); tick <= last; tick++) {
      let entry: TimerEntry | null = this.#heads[tick % SLOTS]!;
      while (entry !== null) {
        const next: TimerEntry | null = entry.timerNext;
        if (entry.timerDeadline <= now) {
          this.#unlink(entry);
          due.push(entry);
        }
        entry = next;
      }
    }
    this.#nextTick = last + 1;
    for (const entry of due) {
      // Re-armed by an earlier callback in this tick: no longer due.
      if (entry.timerSlot === -1) entry.onTimeout(entry.timerKind);
    }
    if (this.#armed === 0) this.close();
  }

  #unlink(entry: TimerEntry): void {
    if (entry.timerPrev === null) this.#heads[entry.timerSlot] = entry.timerNext;
    else entry.timerPrev.timerNext = entry.timerNext;
    if (entry.timerNext !== null) entry.timerNext.timerPrev = entry.timerPrev;
    entry.timerPrev = entry.timerNext = null;
    entry.timerSlot = -1;
    this.#armed--;
  }
}
