/**
 * How a connection stops serving: refusing a request with its status (or handing the refusal to
 * the `onClientError` hook), half-closing and lingering, cutting a response off, the cleanup when
 * the socket closes, what a fallen deadline does, and retiring a connection when the server stops
 * or restarts. What a refusal says is `refusals.ts`; the waits of an idle close, `idle-close.ts`.
 *
 *   refuse ─▶ (response) ─▶ shutdown: our side ends ─▶ all sent ('finish') ─▶ linger ─▶ destroy
 *   abort  ─▶ destroy (what was written before goes out; the client sees the response end early)
 *   the socket closes ─▶ closed: the deadline, the worker, the exchange let go
 */

import { HttpError } from '../errors.js';
import type { RequestHead } from '../http/request-head.js';
import { accountExchange, accountRefusal, type Refused } from './accounting.js';
import { armWrite, updateTimer } from './connection-timer.js';
import {
  guard,
  kAwaitingDrain,
  kExchange,
  kHasWorker,
  kHeadStarted,
  kIdleClose,
  kIdleSince,
  kInput,
  kOutput,
  kPaused,
  kQueuedHead,
  kRequests,
  kRetireBy,
  kRetiring,
  kSocketError,
  kState,
  releaseWorker,
  State,
  type ConnectionCore,
} from './connection-state.js';
import { lingerMs } from './deadlines.js';
import { IdleClose } from './idle-close.js';
import { TimerKind } from './monitor.js';
import { firstLine, offerToHook, refusalBytes, refusalHeaders } from './refusals.js';

/** Refuse the current request with the status of `error`, then close. */
export function reject(conn: ConnectionCore, error: HttpError, head: RequestHead | null = null): void {
  if (!(error instanceof HttpError)) throw error;
  if (conn[kState] >= State.Closing) return;
  const server = conn.server;
  const exchange = conn[kExchange];
  const isHead = (head ?? conn[kQueuedHead])?.method === 'HEAD' || exchange?.isHead === true;
  if (exchange !== null) {
    const committed = exchange.response.committed;
    const complete = exchange.response.ended;
    exchange.kill(error);
    if (complete) {
      // The response is whole; only the unread body it left behind is bad: send it, then close.
      server.logger.debug(`connection ${conn.info.id}: ${error.message} in the body drained after the response`);
      shutdown(conn);
      return;
    }
    if (committed) {
      server.logger.debug(`connection ${conn.info.id}: ${error.message} after the response head was sent`);
      accountExchange(server, conn.info, exchange);
      abort(conn);
      return;
    }
  }
  server.logger.debug(`connection ${conn.info.id}: ${error.status} ${error.code}: ${error.message}`);
  const input = conn[kInput];
  const about: Refused = {
    exchange,
    head: head ?? conn[kQueuedHead],
    rawLine: exchange === null && head === null ? firstLine(input.buf, input.start, input.end) : undefined,
  };
  if (exchange === null && error.status !== 503 && offerClientError(conn, error)) {
    accountRefusal(server, conn.info, error.status, 0, about, conn[kHeadStarted]);
    return;
  }
  sendError(conn, error.status, error.message, refusalHeaders(error.status), isHead, about);
}

/**
 * Let the `onClientError` hook answer a request refused before any app saw it. True if it took
 * the connection: reading stops, what the hook writes goes out, and it ends the connection (or
 * `socketTimeout` does).
 */
function offerClientError(conn: ConnectionCore, error: HttpError): boolean {
  const server = conn.server;
  const hook = server.options.onClientError;
  if (hook === null) return false;
  const taken = offerToHook(hook, error, conn.socket, conn.info, conn[kInput].copy(), server.logger);
  if (taken === null) return false;
  // Stop serving as shutdown() does, but leave the ending to the hook.
  if (conn[kState] === State.Queued) server.pool.remove(conn);
  conn[kState] = State.Closing;
  conn[kQueuedHead] = null;
  if (conn[kHasWorker]) releaseWorker(conn);
  conn[kInput].clear();
  conn[kOutput].flush();
  if (conn[kPaused]) {
    conn[kPaused] = false;
    conn.socket.resume();
  }
  if (taken.isOpen()) server.monitor.arm(conn, TimerKind.Linger, lingerMs(server.options, true));
  return true;
}

/** Send a response the server made itself (a refusal, a 500, a 503), then close. */
export function sendError(conn: ConnectionCore, status: number, detail: string | undefined, extraHeaders: string, isHead: boolean, about: Refused): void {
  const { bytes, bodyLength } = refusalBytes(conn.server.options, status, detail, extraHeaders, isHead);
  conn[kOutput].send(bytes);
  accountRefusal(conn.server, conn.info, status, bodyLength, about, conn[kHeadStarted]);
  shutdown(conn);
}

/** Refuse a new connection because the queue is full: 503 with Retry-After, then close. */
export function refuseOverloaded(conn: ConnectionCore): void {
  sendError(conn, 503, 'the server is overloaded, retry later', refusalHeaders(503), false, {});
}

/**
 * End our side and stop serving. Input is read and discarded for a little while, so a client
 * still sending (an upload we refused) gets to read our response rather than a reset.
 */
export function shutdown(conn: ConnectionCore): void {
  const state = conn[kState];
  if (state >= State.Closing) return;
  if (state === State.Queued) conn.server.pool.remove(conn);
  conn[kState] = State.Closing;
  settleExchange(conn);
  conn[kExchange]?.kill(new Error('the connection is closing'));
  conn[kExchange] = null;
  conn[kQueuedHead] = null;
  if (conn[kHasWorker]) releaseWorker(conn);
  conn[kInput].clear();
  conn[kOutput].flush();
  conn.socket.end();
  if (conn[kPaused]) {
    conn[kPaused] = false;
    conn.socket.resume();
  }
  // What is still queued goes out first, for as long as the client keeps reading; the linger
  // starts once it is all sent ('finish').
  armWrite(conn);
}

/**
 * Cut the connection off in the middle of a response: what was sent before it (earlier
 * pipelined responses, part of this one) goes out, and the client sees the response end early.
 */
export function abort(conn: ConnectionCore): void {
  conn[kOutput].flush();
  conn.socket.destroy();
}

/**
 * The exchange ends without having been counted: a response cut off (the client left, the
 * server closed) is logged with what was sent; a request that got nothing at all is not, as
 * there is no status to tell.
 */
function settleExchange(conn: ConnectionCore): void {
  const exchange = conn[kExchange];
  if (exchange === null || exchange.accounted) return;
  if (exchange.response.committed) {
    accountExchange(conn.server, conn.info, exchange);
  } else {
    exchange.accounted = true;
    conn.server.metrics.inFlight--;
  }
}

/** The socket closed: nothing of the connection is left waiting (its server is told apart). */
export function closed(conn: ConnectionCore): void {
  if (conn[kState] === State.Queued) conn.server.pool.remove(conn);
  conn[kState] = State.Closed;
  conn.server.monitor.cancel(conn);
  conn[kIdleClose]?.cancel();
  if (conn[kHasWorker]) releaseWorker(conn);
  settleExchange(conn);
  conn[kExchange]?.kill(conn[kSocketError] ?? Object.assign(new Error('the client closed the connection'), { code: 'ECONNRESET' }));
  conn[kExchange] = null;
  conn[kQueuedHead] = null;
  conn[kInput].clear();
}

// ---- deadlines ----

/** A deadline of kind `kind` fell. */
export function deadlinePassed(conn: ConnectionCore, kind: TimerKind): void {
  switch (kind) {
    case TimerKind.Idle:
      closeWhenQuiet(conn);
      return;
    case TimerKind.Head:
      if (conn[kState] !== State.Head) return;
      // Nothing of a request arrived: close. Part of one did: tell the client why.
      if (conn[kInput].empty) {
        closeWhenQuiet(conn);
        return;
      }
      timedOut(conn, 'the request head did not arrive in time');
      reject(conn, new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'the request head did not arrive in time'));
      return;
    case TimerKind.Queue:
      if (conn[kState] !== State.Queued) return;
      timedOut(conn, 'no worker became free in time');
      reject(conn, new HttpError(503, 'ROCKET_ERR_OVERLOADED', 'no worker became free in time, retry later'));
      return;
    case TimerKind.Body:
      if (conn[kState] !== State.Exchange) return;
      timedOut(conn, 'the request body did not arrive in time');
      reject(conn, new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'the request body did not arrive in time'));
      return;
    case TimerKind.Write:
      if (conn[kOutput].progressed()) {
        // Slow, but reading: another period.
        armWrite(conn);
        return;
      }
      if (conn.socket.writableLength === 0 && conn[kState] !== State.Closing) {
        updateTimer(conn, false);
        return;
      }
      timedOut(conn, 'the client stopped reading its response');
      conn.socket.destroy();
      return;
    case TimerKind.Linger:
      conn.socket.destroy();
      return;
  }
}

/** A deadline fired: counted, and told on the Rocket.Monitor channel. */
function timedOut(conn: ConnectionCore, what: string): void {
  conn.server.metrics.timeouts++;
  conn.server.logs.monitor.debug(`connection ${conn.info.id} (${conn.info.remoteAddress}): ${what}`);
}

/**
 * No request came in time: close — with a 408 first for a new connection that never sent one,
 * when the server answers those (idle408); a keep-alive connection going idle is just closed.
 */
function closeIdle(conn: ConnectionCore): void {
  if (conn.server.options.idle408 && conn[kRequests] === 0) reject(conn, new HttpError(408, 'ROCKET_ERR_TIMEOUT', 'no request arrived in time'));
  else shutdown(conn);
}

// ---- stop, restart ----

/**
 * The server stops or restarts: finish the request in flight (its response says `Connection:
 * close`) and close after it; a request waiting for a worker is still served. An idle connection
 * closes once nothing is unread on it — after a last call when it was in use moments ago, which
 * ends by `until` (ms since the epoch) at the latest.
 */
export function beginRetiring(conn: ConnectionCore, until: number): void {
  conn[kRetiring] = true;
  conn[kRetireBy] = Math.min(conn[kRetireBy], until);
  if (conn[kState] !== State.Head || conn[kAwaitingDrain]) return;
  // Part of a head: it was not taken on yet, so say why it never will be.
  if (!conn[kInput].empty) reject(conn, new HttpError(503, 'ROCKET_ERR_OVERLOADED', 'the server is shutting down'));
  else lastCall(conn);
}

/** An idle retiring connection closes after its last call (`idle-close.ts`). */
export function lastCall(conn: ConnectionCore): void {
  waits(conn).lastCall(conn[kIdleSince], conn[kRetireBy]);
}

function waits(conn: ConnectionCore): IdleClose {
  return (conn[kIdleClose] ??= new IdleClose(() => closeIfQuiet(conn)));
}

/**
 * Close an idle connection, but only with nothing unread on it: after one more poll of the
 * sockets (`idle-close.ts` says why), anything read meanwhile is a request to answer instead.
 */
function closeWhenQuiet(conn: ConnectionCore): void {
  if (conn[kState] === State.Head) waits(conn).afterPoll();
}

function closeIfQuiet(conn: ConnectionCore): void {
  if (conn[kState] !== State.Head || conn[kAwaitingDrain] || conn.socket.readableLength > 0) return;
  if (conn[kInput].empty) guard(conn, conn[kRetiring] ? shutdownStep : closeIdleStep);
  // Part of a head came during the last call and no more: say why it will not be served.
  else if (conn[kRetiring]) guard(conn, refuseStep);
}

function shutdownStep(this: ConnectionCore): void {
  shutdown(this);
}

function refuseStep(this: ConnectionCore): void {
  reject(this, new HttpError(503, 'ROCKET_ERR_OVERLOADED', 'the server is shutting down'));
}

function closeIdleStep(this: ConnectionCore): void {
  closeIdle(this);
}
