/**
 * A connection's state, as the modules that serve it share it. `Connection` (`connection.ts`) is
 * the one implementation; it reads requests and runs exchanges, `connection-timer.ts` keeps its
 * one deadline and `closing.ts` ends it. The shared fields are keyed by the module-level symbols
 * below, so they stay out of the connection's public surface while those modules reach them
 * directly, with no accessor or bag of callbacks on the way.
 */

import type { Socket } from 'node:net';
import { describeError } from '../errors.js';
import type { ConnectionInfo } from '../gateway/environ.js';
import type { HeadLimits, RequestHead } from '../http/request-head.js';
import type { AccountingServer } from './accounting.js';
import type { Exchange, ExchangeServer } from './exchange.js';
import type { IdleClose } from './idle-close.js';
import type { Monitor, TimerEntry } from './monitor.js';
import type { Output } from './output.js';
import type { PoolMember, WorkerPool } from './pool.js';
import type { ReadBuffer } from './read-buffer.js';

export const enum State {
  /** Waiting for, or parsing, a request head. */
  Head,
  /** A head was parsed; waiting for a worker. */
  Queued,
  /** A request is being served. */
  Exchange,
  /** Half-closed: our side ended, input is discarded until the client closes or the linger ends. */
  Closing,
  Closed,
}

export const kState = Symbol('state');
export const kInput = Symbol('input');
export const kOutput = Symbol('output');
export const kHeadStarted = Symbol('headStarted');
export const kRequestStarted = Symbol('requestStarted');
export const kQueuedHead = Symbol('queuedHead');
export const kExchange = Symbol('exchange');
export const kHasWorker = Symbol('hasWorker');
export const kRequests = Symbol('requests');
export const kPaused = Symbol('paused');
export const kSocketError = Symbol('socketError');
export const kRetiring = Symbol('retiring');
export const kRetireBy = Symbol('retireBy');
export const kIdleSince = Symbol('idleSince');
export const kIdleClose = Symbol('idleClose');
export const kAwaitingDrain = Symbol('awaitingDrain');

/** What serving a connection needs from its server. */
export interface CoreServer extends ExchangeServer, AccountingServer {
  readonly monitor: Monitor;
  readonly pool: WorkerPool;
  readonly headLimits: HeadLimits;
}

/** A connection as the modules serving it see it. */
export interface ConnectionCore extends TimerEntry, PoolMember {
  readonly socket: Socket;
  readonly server: CoreServer;
  readonly info: ConnectionInfo;
  [kState]: State;
  /** What was received and not yet consumed. */
  readonly [kInput]: ReadBuffer;
  /** Everything sent, in order. */
  readonly [kOutput]: Output;
  /** When the first byte of the head being read arrived (ms), or 0. */
  [kHeadStarted]: number;
  /** When the first byte of the request being served arrived (ms), for `requestTimeout`. */
  [kRequestStarted]: number;
  /** The head waiting for a worker, in `Queued`. */
  [kQueuedHead]: RequestHead | null;
  [kExchange]: Exchange | null;
  [kHasWorker]: boolean;
  /** Requests completed on the connection. */
  [kRequests]: number;
  /** The socket is paused: unread input piles up, or responses wait for the client to read. */
  [kPaused]: boolean;
  /** The first error the socket reported (a reset, a broken pipe): why the client is gone. */
  [kSocketError]: Error | null;
  /** Finish what is in flight, then close (a stop or restart is under way). */
  [kRetiring]: boolean;
  /** When a retiring connection's last call ends at the latest (ms since the epoch). */
  [kRetireBy]: number;
  /** When the connection last had nothing to do: accepted, or its last response done (ms). */
  [kIdleSince]: number;
  /** The waits of an idle close, made when one first starts. */
  [kIdleClose]: IdleClose | null;
  /** Responses fill the socket: no further request is read until the client has read them. */
  [kAwaitingDrain]: boolean;
}

/** Run `step` so that a bug of ours costs one connection, never the process. */
export function guard<C extends ConnectionCore>(conn: C, step: (this: C) => void): void {
  try {
    step.call(conn);
  } catch (error) {
    conn.server.logger.error(`connection ${conn.info.id}: internal error: ${describeError(error)}`);
    conn.socket.destroy();
  }
}

/** Give the connection's worker back to the pool. */
export function releaseWorker(conn: ConnectionCore): void {
  conn[kHasWorker] = false;
  conn.server.pool.release();
}
