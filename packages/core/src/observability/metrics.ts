/**
 * Counters a server keeps about its requests, and their Prometheus text exposition.
 */

/** Upper bounds (seconds) of the latency histogram's Prometheus buckets. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Fine buckets for percentiles: each 2^(1/8) (about 9 %) wider than the last, from 10 µs. */
const FINE_BASE_MS = 0.01;
const FINE_PER_DOUBLING = 8;
const FINE_COUNT = 200;

/**
 * Request durations: cumulative Prometheus buckets, and fine logarithmic buckets from which
 * percentiles are read (to within one fine bucket, about 9 %).
 */
export class LatencyHistogram {
  count = 0;
  /** Sum of all durations, in seconds. */
  sum = 0;
  max = 0;
  readonly buckets = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  readonly #fine = new Array<number>(FINE_COUNT).fill(0);

  observe(ms: number): void {
    const seconds = ms / 1000;
    this.count++;
    this.sum += seconds;
    if (ms > this.max) this.max = ms;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
    const slot = ms <= FINE_BASE_MS ? 0 : Math.min(FINE_COUNT - 1, Math.ceil(Math.log2(ms / FINE_BASE_MS) * FINE_PER_DOUBLING));
    this.#fine[slot]!++;
  }

  /** The duration (ms) under which `p` (0–1) of the requests finished; 0 with no requests. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(p * this.count);
    let seen = 0;
    for (let slot = 0; slot < FINE_COUNT; slot++) {
      seen += this.#fine[slot]!;
      if (seen >= rank) return Math.min(this.max, FINE_BASE_MS * 2 ** (slot / FINE_PER_DOUBLING));
    }
    return this.max;
  }
}

/** What the server counts as requests come and go. */
export class RequestMetrics {
  /** Requests answered, by the app or by the server. */
  total = 0;
  inFlight = 0;
  /** Responses by status class: index 1 for 1xx … 5 for 5xx. */
  readonly byClass = [0, 0, 0, 0, 0, 0];
  /** Requests the server refused (its own 4xx), by status. */
  readonly clientErrors = new Map<number, number>();
  /** Apps that threw, rejected or returned something that is not a body. */
  appErrors = 0;
  /** Deadlines that fired: heads, bodies, stalled readers, waits for a worker. */
  timeouts = 0;
  /** Connections closed, and the bytes they carried. */
  closedConnections = 0;
  bytesReceived = 0;
  bytesSent = 0;
  readonly latency = new LatencyHistogram();

  responded(status: number, durationMs: number, refusedByServer: boolean): void {
    this.total++;
    const statusClass = Math.floor(status / 100);
    if (statusClass >= 1 && statusClass <= 5) this.byClass[statusClass]!++;
    if (refusedByServer && status >= 400 && status < 500) this.clientErrors.set(status, (this.clientErrors.get(status) ?? 0) + 1);
    this.latency.observe(durationMs);
  }
}

/** One metric for the exposition: a name, its type and help, and its samples. */
interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: [labels: string, value: number][];
}

/** The numbers the exposition is made of (a server's stats()). */
export interface MetricsSnapshot {
  connections: { open: number; active: number; idle: number; accepted: number; closed: number; rejected: number };
  pool: { threads: number; busy: number; queued: number; grown: number; shrunk: number };
  requests: { inFlight: number };
  bytes: { received: number; sent: number };
}

/**
 * What one server (one worker process) contributes to a scrape: plain data, so that a worker can
 * send it to the primary process over IPC.
 */
export interface MetricsSource {
  /** The `worker` label of every sample, or null for a single process. */
  worker: string | null;
  snapshot: MetricsSnapshot;
  byClass: number[];
  clientErrors: [status: number, count: number][];
  appErrors: number;
  timeouts: number;
  latency: { buckets: number[]; count: number; sum: number };
}

/** The metrics of one server as a {@link MetricsSource}. */
export function metricsSource(snapshot: MetricsSnapshot, metrics: RequestMetrics, worker: string | null = null): MetricsSource {
  const { connections, pool, requests, bytes } = snapshot;
  return {
    worker,
    snapshot: {
      connections: {
        open: connections.open,
        active: connections.active,
        idle: connections.idle,
        accepted: connections.accepted,
        closed: connections.closed,
        rejected: connections.rejected,
      },
      pool: { threads: pool.threads, busy: pool.busy, queued: pool.queued, grown: pool.grown, shrunk: pool.shrunk },
      requests: { inFlight: requests.inFlight },
      bytes: { received: bytes.received, sent: bytes.sent },
    },
    byClass: [...metrics.byClass],
    clientErrors: [...metrics.clientErrors].sort((a, b) => a[0] - b[0]),
    appErrors: metrics.appErrors,
    timeouts: metrics.timeouts,
    latency: { buckets: [...metrics.latency.buckets], count: metrics.latency.count, sum: metrics.latency.sum },
  };
}

/** The Prometheus text exposition format (version 0.0.4) of a server's metrics. */
export function prometheusText(snapshot: MetricsSnapshot, metrics: RequestMetrics): string {
  return prometheusTextOf([metricsSource(snapshot, metrics)]);
}

/** `{worker="2",code="2xx"}`: the source's worker label first, then the sample's own. */
function labelled(worker: string | null, labels: string): string {
  if (worker === null) return labels;
  const own = `worker="${worker}"`;
  return labels === '' ? `{${own}}` : `{${own},${labels.slice(1)}`;
}

/**
 * The exposition of several servers in one scrape — the workers of a cluster, each sample
 * labelled with its `worker` — or of one, unlabelled.
 */
export function prometheusTextOf(sources: readonly MetricsSource[]): string {
  const family = (name: string, type: Family['type'], help: string, samples: (source: MetricsSource) => [string, number][]): Family => ({
    name,
    type,
    help,
    samples: sources.flatMap((source) => samples(source).map(([labels, value]) => [labelled(source.worker, labels), value] as [string, number])),
  });
  const families: Family[] = [
    family('rocket_connections_open', 'gauge', 'Connections open now.', (s) => [['', s.snapshot.connections.open]]),
    family('rocket_connections_active', 'gauge', 'Connections with a request being served or waiting for a worker.', (s) => [['', s.snapshot.connections.active]]),
    family('rocket_connections_idle', 'gauge', 'Keep-alive connections idle between requests.', (s) => [['', s.snapshot.connections.idle]]),
    family('rocket_connections_accepted_total', 'counter', 'Connections accepted.', (s) => [['', s.snapshot.connections.accepted]]),
    family('rocket_connections_closed_total', 'counter', 'Connections closed.', (s) => [['', s.snapshot.connections.closed]]),
    family('rocket_connections_rejected_total', 'counter', 'Connections refused with 503 because the queue was full.', (s) => [['', s.snapshot.connections.rejected]]),
    family('rocket_pool_threads', 'gauge', 'Workers in the pool.', (s) => [['', s.snapshot.pool.threads]]),
    family('rocket_pool_busy', 'gauge', 'Workers serving a connection.', (s) => [['', s.snapshot.pool.busy]]),
    family('rocket_pool_queued', 'gauge', 'Connections waiting for a worker.', (s) => [['', s.snapshot.pool.queued]]),
    family('rocket_pool_resizes_total', 'counter', 'Times the pool grew or shrank.', (s) => [
      ['{direction="grow"}', s.snapshot.pool.grown],
      ['{direction="shrink"}', s.snapshot.pool.shrunk],
    ]),
    family('rocket_requests_total', 'counter', 'Requests answered, by status class.', (s) =>
      [1, 2, 3, 4, 5].map((c) => [`{code="${c}xx"}`, s.byClass[c]!] as [string, number]),
    ),
    family('rocket_requests_in_flight', 'gauge', 'Requests being served now.', (s) => [['', s.snapshot.requests.inFlight]]),
    family('rocket_client_errors_total', 'counter', 'Requests the server refused, by status.', (s) =>
      s.clientErrors.map(([status, n]) => [`{code="${status}"}`, n] as [string, number]),
    ),
    family('rocket_app_errors_total', 'counter', 'Requests whose application failed.', (s) => [['', s.appErrors]]),
    family('rocket_timeouts_total', 'counter', 'Deadlines that fired: request heads, bodies, stalled readers, waits for a worker.', (s) => [['', s.timeouts]]),
    family('rocket_received_bytes_total', 'counter', 'Bytes received from clients.', (s) => [['', s.snapshot.bytes.received]]),
    family('rocket_sent_bytes_total', 'counter', 'Bytes sent to clients.', (s) => [['', s.snapshot.bytes.sent]]),
  ];
  let text = '';
  for (const family of families) {
    text += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    for (const [labels, value] of family.samples) text += `${family.name}${labels} ${value}\n`;
  }
  const name = 'rocket_request_duration_seconds';
  text += `# HELP ${name} Time from a complete request head to the end of its response.\n# TYPE ${name} histogram\n`;
  for (const source of sources) {
    const latency = source.latency;
    let cumulative = 0;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      cumulative += latency.buckets[i]!;
      text += `${name}_bucket${labelled(source.worker, `{le="${LATENCY_BUCKETS[i]}"}`)} ${cumulative}\n`;
    }
    const plain = labelled(source.worker, '');
    text += `${name}_bucket${labelled(source.worker, '{le="+Inf"}')} ${latency.count}\n${name}_sum${plain} ${latency.sum}\n${name}_count${plain} ${latency.count}\n`;
  }
  return text;
}
