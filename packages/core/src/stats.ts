/**
 * What `Rocket.stats()` reports: the shape of the snapshot, and how a primary process adds up
 * the reports of its workers.
 */

import type { PoolStats } from './engine/pool.js';
import type { RequestMetrics } from './observability/metrics.js';
import type { WorkerReport } from './workers.js';

/** The states of a server, as `stats().state` names them (in the order of `Rocket`'s state enum). */
export const STATE_NAMES = ['stopped', 'starting', 'running', 'restarting', 'stopping'] as const;

/** A JSON-able snapshot of the server. */
export interface RocketStats {
  state: (typeof STATE_NAMES)[number];
  connections: {
    /** Open now. */
    open: number;
    /** With a request being served or waiting for a worker. */
    active: number;
    /** Idle between requests, held by the monitor. */
    idle: number;
    /** Waiting for the client to read the responses already sent before anything else is read. */
    flushing: number;
    /** Accepted since the server was created. */
    accepted: number;
    /** Closed since the server was created (handed over by an Upgrade included). */
    closed: number;
    /** Refused with 503 because the queue was full. */
    rejected: number;
  };
  pool: PoolStats;
  requests: {
    /** Answered, by the app or by the server itself. */
    total: number;
    /** Being served now. */
    inFlight: number;
    /** Answered, by status class. */
    byClass: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  };
  errors: {
    /** Requests the server refused itself (400, 408, 413, 414, 431, …), by status. */
    client: Record<string, number>;
    /** Requests whose app threw, rejected or returned something that is not a body. */
    app: number;
    /** Deadlines that fired: request heads and bodies, clients that stopped reading, waits for a worker. */
    timeouts: number;
  };
  /** Bytes received from and sent to clients. */
  bytes: { received: number; sent: number };
  /** Time from a complete request head to the end of its response, in ms. */
  latency: { count: number; p50: number; p90: number; p99: number; max: number };
  /**
   * With `workers`, in the primary: each worker's own stats, as it last reported them (once a
   * second). The numbers above are then their sums — except the latency percentiles and maximum,
   * which are the highest of any worker.
   */
  workers?: (RocketStats & { worker: number; pid: number })[];
}

/** A connection, as the stats count it. */
export interface CountedConnection {
  readonly flushing: boolean;
  readonly idle: boolean;
  readonly active: boolean;
  readonly socket: { readonly bytesRead: number; readonly bytesWritten: number };
}

/**
 * One process's stats: its open connections counted by state (with the bytes they carried so
 * far), and the totals of its metrics.
 */
export function serverStats(
  state: RocketStats['state'],
  connections: ReadonlySet<CountedConnection>,
  metrics: RequestMetrics,
  pool: PoolStats,
  counts: { accepted: number; rejected: number },
): RocketStats {
  let idle = 0;
  let active = 0;
  let flushing = 0;
  let received = metrics.bytesReceived;
  let sent = metrics.bytesSent;
  for (const conn of connections) {
    if (conn.flushing) flushing++;
    else if (conn.idle) idle++;
    else if (conn.active) active++;
    received += conn.socket.bytesRead;
    sent += conn.socket.bytesWritten;
  }
  const byClass = metrics.byClass;
  const latency = metrics.latency;
  return {
    state,
    connections: { open: connections.size, active, idle, flushing, accepted: counts.accepted, closed: metrics.closedConnections, rejected: counts.rejected },
    pool,
    requests: {
      total: metrics.total,
      inFlight: metrics.inFlight,
      byClass: { '1xx': byClass[1]!, '2xx': byClass[2]!, '3xx': byClass[3]!, '4xx': byClass[4]!, '5xx': byClass[5]! },
    },
    errors: { client: Object.fromEntries([...metrics.clientErrors].sort((a, b) => a[0] - b[0])), app: metrics.appErrors, timeouts: metrics.timeouts },
    bytes: { received, sent },
    latency: {
      count: latency.count,
      p50: roundMs(latency.percentile(0.5)),
      p90: roundMs(latency.percentile(0.9)),
      p99: roundMs(latency.percentile(0.99)),
      max: roundMs(latency.max),
    },
  };
}

/** Milliseconds to three decimals, as the latency figures are reported. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The primary's stats: the workers' latest reports, summed — but the latency percentiles and
 * maximum, which are the highest of any worker's.
 */
export function combineStats(state: RocketStats['state'], reports: WorkerReport[]): RocketStats {
  const workers = reports.flatMap((report) => {
    const stats = (report.stats as { stats?: RocketStats } | null)?.stats;
    return stats === undefined ? [] : [{ ...stats, worker: report.worker, pid: report.pid }];
  });
  const sum = (pick: (stats: RocketStats) => Record<string, number>): Record<string, number> => {
    const total: Record<string, number> = {};
    for (const stats of workers) for (const [key, value] of Object.entries(pick(stats))) total[key] = (total[key] ?? 0) + value;
    return total;
  };
  const highest = (pick: (stats: RocketStats) => number) => workers.reduce((max, stats) => Math.max(max, pick(stats)), 0);
  const pool = sum((s) => ({ ...s.pool }));
  return {
    state,
    connections: sum((s) => s.connections) as RocketStats['connections'],
    pool: pool as unknown as PoolStats,
    requests: {
      total: workers.reduce((n, s) => n + s.requests.total, 0),
      inFlight: workers.reduce((n, s) => n + s.requests.inFlight, 0),
      byClass: sum((s) => s.requests.byClass) as RocketStats['requests']['byClass'],
    },
    errors: { client: sum((s) => s.errors.client), app: workers.reduce((n, s) => n + s.errors.app, 0), timeouts: workers.reduce((n, s) => n + s.errors.timeouts, 0) },
    bytes: sum((s) => s.bytes) as RocketStats['bytes'],
    latency: {
      count: workers.reduce((n, s) => n + s.latency.count, 0),
      p50: highest((s) => s.latency.p50),
      p90: highest((s) => s.latency.p90),
      p99: highest((s) => s.latency.p99),
      max: highest((s) => s.latency.max),
    },
    workers,
  };
}
