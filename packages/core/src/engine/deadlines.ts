/**
 * When a connection's deadlines fall: the arithmetic of the timeout options, one function per
 * kind of wait. The connection picks which wait applies (its state); the monitor keeps the clock.
 * Options are in seconds, 0 meaning none; results are ms since the epoch, `Infinity` for none.
 */

import type { Socket } from 'node:net';
import type { ResolvedOptions } from '../options.js';

/** Most milliseconds a closing connection waits for the client to close. */
export const LINGER_MS = 2000;
/** Most milliseconds between the Keep-Alive hint and the actual close (Node's keepAliveTimeoutBuffer). */
const IDLE_GRACE_MS = 1000;
/**
 * How long after its last response a retired keep-alive connection stays open for the request its
 * client may already be sending: a client reusing a connection sends at once, one that waited this
 * long is idle.
 */
export const LAST_CALL_MS = 500;

type Timeouts = Pick<ResolvedOptions, 'socketTimeout' | 'headerTimeout' | 'requestTimeout' | 'timeout' | 'queueTimeout'>;

/** Deadlines are checked often enough that the shortest timeout is off by a tenth at most: the monitor's tick, in ms. */
export function monitorResolution(options: Timeouts): number {
  const timeouts = [options.timeout, options.socketTimeout, options.headerTimeout, options.queueTimeout, options.requestTimeout];
  const shortest = Math.min(...timeouts.filter((s) => s > 0).map((s) => s * 1000), 10_000);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 10)));
}

/** Milliseconds for a PROXY header: the shorter of socketTimeout and headerTimeout; 0 = no limit. */
export function proxyHeaderTimeout(options: Timeouts): number {
  const limits = [options.socketTimeout, options.headerTimeout].filter((s) => s > 0);
  return limits.length === 0 ? 0 : Math.min(...limits) * 1000;
}

/**
 * A head on its way: inactivity (`socketTimeout`), and a bound on the whole head from its first
 * byte (`headerTimeout`, `requestTimeout`). `headStarted`: that first byte (ms), or 0.
 */
export function headDeadline(options: Timeouts, now: number, headStarted: number): number {
  let deadline = options.socketTimeout > 0 ? now + options.socketTimeout * 1000 : Infinity;
  if (headStarted !== 0 && options.headerTimeout > 0) deadline = Math.min(deadline, headStarted + options.headerTimeout * 1000);
  if (headStarted !== 0 && options.requestTimeout > 0) deadline = Math.min(deadline, headStarted + options.requestTimeout * 1000);
  return deadline;
}

/** Keep-alive: a little longer than the hint, so well-behaved clients retire first. */
export function idleDeadline(options: Timeouts, now: number): number {
  const ms = options.timeout * 1000;
  return ms > 0 ? now + ms + Math.min(IDLE_GRACE_MS, ms / 10) : Infinity;
}

/** The wait for a worker, counted from when it began. */
export function queueDeadline(options: Timeouts, now: number): number {
  return options.queueTimeout > 0 ? now + options.queueTimeout * 1000 : Infinity;
}

/**
 * A body the app waits for: inactivity, and the whole request bounded from its first byte.
 * `requestStarted`: that first byte (ms), or 0.
 */
export function bodyDeadline(options: Timeouts, now: number, requestStarted: number): number {
  let deadline = options.socketTimeout > 0 ? now + options.socketTimeout * 1000 : Infinity;
  if (options.requestTimeout > 0 && requestStarted !== 0) deadline = Math.min(deadline, requestStarted + options.requestTimeout * 1000);
  return deadline;
}

/**
 * How long a connection whose output is all sent waits for the client to close; `forHook`: the
 * `onClientError` hook took the connection and may still write, so it gets all of `socketTimeout`.
 */
export function lingerMs(options: Timeouts, forHook: boolean): number {
  const socketTimeout = options.socketTimeout * 1000;
  if (socketTimeout <= 0) return LINGER_MS;
  return forHook ? socketTimeout : Math.min(LINGER_MS, socketTimeout);
}

/**
 * Bytes of the writes in flight that the kernel has not taken yet (libuv's write queue): unlike
 * `writableLength`, it shrinks while a large write is going out piece by piece.
 */
export function unsentOnWire(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle;
  return typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
}
