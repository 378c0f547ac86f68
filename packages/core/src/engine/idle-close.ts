/**
 * The waits before an idle connection closes. A connection whose last response promised
 * keep-alive is only ever closed with nothing unread on it, and these waits give what the client
 * may already have sent the time to be read:
 *
 *   stop or restart ─▶ last call ─┐   (LAST_CALL_MS from the last response, by the stop's deadline at the latest)
 *                                 ├─▶ one full poll of the sockets ─▶ the connection checks: nothing came → close
 *   keep-alive timeout ───────────┘
 *
 * Bytes the client sent before the decision may still be in the system, not yet read by the event
 * loop: the check waits for one full poll (an immediate scheduled from the check phase runs after
 * the next poll), and anything read meanwhile is a request to answer instead. What the client
 * sends after that is the keep-alive race no server can close: it meets our FIN. The connection
 * decides what "nothing came" means and what closing says; this module only keeps the time.
 */

import { LAST_CALL_MS } from './deadlines.js';

export class IdleClose {
  #lastCallTimer: NodeJS.Timeout | null = null;
  #polling = false;
  readonly #check: () => void;

  /** @param check called when a wait is over: the connection closes if nothing came meanwhile. */
  constructor(check: () => void) {
    this.#check = check;
  }

  /**
   * A retiring connection is idle: its client may be about to send the request it meant to send
   * on it, so the close waits until `LAST_CALL_MS` after `idleSince` (its last response), or
   * `retireBy` if that is sooner (ms since the epoch), then for a poll.
   */
  lastCall(idleSince: number, retireBy: number): void {
    if (this.#lastCallTimer !== null) return;
    const delay = Math.min(idleSince + LAST_CALL_MS, retireBy) - Date.now();
    if (delay <= 0) {
      this.afterPoll();
      return;
    }
    this.#lastCallTimer = setTimeout(IdleClose.#lastCallOver, delay, this);
    this.#lastCallTimer.unref();
  }

  /** Check once the event loop has polled the sockets again. */
  afterPoll(): void {
    if (this.#polling) return;
    this.#polling = true;
    setImmediate(IdleClose.#polled, this);
  }

  /** The connection closed: no check will come. */
  cancel(): void {
    if (this.#lastCallTimer !== null) clearTimeout(this.#lastCallTimer);
    this.#lastCallTimer = null;
  }

  static #lastCallOver(self: IdleClose): void {
    self.#lastCallTimer = null;
    self.afterPoll();
  }

  static #polled(self: IdleClose): void {
    setImmediate(IdleClose.#checkNow, self);
  }

  static #checkNow(self: IdleClose): void {
    self.#polling = false;
    self.#check();
  }
}
