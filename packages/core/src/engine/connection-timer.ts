/**
 * A connection's one deadline: which wait applies in its current state, armed in the monitor.
 * When it falls is `deadlines.ts`'s arithmetic; what its falling does is `closing.ts`.
 *
 *   Head, nothing yet after a response ─▶ Idle      (keep-alive timeout)
 *   Head, part of a head, or a new one ─▶ Head      (inactivity, and the whole head from its first byte)
 *   Queued                             ─▶ Queue     (from when the wait began)
 *   Exchange, the app waits for body   ─▶ Body      (inactivity, and the whole request; one deadline for a drain)
 *   responses wait for the client      ─▶ Write     (no progress for socketTimeout)
 *   Closing, all sent                  ─▶ Linger    (armed on 'finish')
 */

import { TimerKind } from './monitor.js';
import { bodyDeadline, headDeadline, idleDeadline, queueDeadline } from './deadlines.js';
import { kAwaitingDrain, kExchange, kHeadStarted, kInput, kOutput, kRequests, kRequestStarted, kState, State, type ConnectionCore } from './connection-state.js';

/**
 * Arm the one deadline that applies now. `activity` (bytes arrived) restarts an inactivity
 * deadline; without it, a deadline of the same kind keeps running.
 */
export function updateTimer(conn: ConnectionCore, activity: boolean): void {
  const monitor = conn.server.monitor;
  const options = conn.server.options;
  let kind: TimerKind;
  let deadline: number;
  const now = Date.now();
  switch (conn[kState]) {
    case State.Head:
      if (conn[kAwaitingDrain]) {
        if (conn.timerKind === TimerKind.Write && conn.timerSlot !== -1) return;
        armWrite(conn);
        return;
      }
      if (!conn[kInput].empty || conn[kRequests] === 0) {
        // Inactivity while a head arrives, and a deadline for the whole head from its first byte.
        kind = TimerKind.Head;
        deadline = headDeadline(options, now, conn[kHeadStarted]);
      } else {
        kind = TimerKind.Idle;
        deadline = idleDeadline(options, now);
      }
      break;
    case State.Queued:
      // The wait for a worker is counted from when it began, whatever the client sends meanwhile.
      if (conn.timerKind === TimerKind.Queue && conn.timerSlot !== -1) return;
      kind = TimerKind.Queue;
      deadline = queueDeadline(options, now);
      activity = true;
      break;
    case State.Exchange: {
      if (conn.timerKind === TimerKind.Write && conn.timerSlot !== -1) return;
      const exchange = conn[kExchange]!;
      if (!exchange.awaitingBody) {
        monitor.cancel(conn);
        return;
      }
      kind = TimerKind.Body;
      deadline = bodyDeadline(options, now, conn[kRequestStarted]);
      // Draining what the app left unread has one deadline in all, however the bytes trickle.
      if (exchange.discarding && conn.timerKind === TimerKind.Body && conn.timerSlot !== -1) return;
      break;
    }
    default:
      return;
  }
  if (!activity && conn.timerSlot !== -1 && conn.timerKind === kind) return;
  if (deadline === Infinity) monitor.cancel(conn);
  else monitor.armAt(conn, kind, deadline);
}

/** Time the client's reading: no progress for `socketTimeout` and the connection is closed. */
export function armWrite(conn: ConnectionCore): void {
  conn[kOutput].markUnsent();
  conn.server.monitor.arm(conn, TimerKind.Write, conn.server.options.socketTimeout * 1000);
}
