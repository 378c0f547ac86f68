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

/** The Prometheus text exposition format (version 0.0.4) of a server's metrics. */
export function prometheusText(snapshot: MetricsSnapshot, metrics: RequestMetrics): string {
  const families: Family[] = [
    { name: 'rocket_connections_open', type: 'gauge', help: 'Connections open now.', samples: [['', snapshot.connections.open]] },
    { name: 'rocket_connections_active', type: 'gauge', help: 'Connections with a request being served or waiting for a worker.', samples: [['', snapshot.connections.active]] },
    { name: 'rocket_connections_idle', type: 'gauge', help: 'Keep-alive connections idle between requests.', samples: [['', snapshot.connections.idle]] },
    { name: 'rocket_connections_accepted_total', type: 'counter', help: 'Connections accepted.', samples: [['', snapshot.connections.accepted]] },
    { name: 'rocket_connections_closed_total', type: 'counter', help: 'Connections closed.', samples: [['', snapshot.connections.closed]] },
    { name: 'rocket_connections_rejected_total', type: 'counter', help: 'Connections refused with 503 because the queue was full.', samples: [['', snapshot.connections.rejected]] },
    { name: 'rocket_pool_threads', type: 'gauge', help: 'Workers in the pool.', samples: [['', snapshot.pool.threads]] },
    { name: 'rocket_pool_busy', type: 'gauge', help: 'Workers serving a connection.', samples: [['', snapshot.pool.busy]] },
    { name: 'rocket_pool_queued', type: 'gauge', help: 'Connections waiting for a worker.', samples: [['', snapshot.pool.queued]] },
    {
      name: 'rocket_pool_resizes_total',
      type: 'counter',
      help: 'Times the pool grew or shrank.',
      samples: [
        ['{direction="grow"}', snapshot.pool.grown],
        ['{direction="shrink"}', snapshot.pool.shrunk],
      ],
    },
    {
      name: 'rocket_requests_total',
      type: 'counter',
      help: 'Requests answered, by status class.',
      samples: [1, 2, 3, 4, 5].map((c) => [`{code="${c}xx"}`, metrics.byClass[c]!] as [string, number]),
    },
    { name: 'rocket_requests_in_flight', type: 'gauge', help: 'Requests being served now.', samples: [['', snapshot.requests.inFlight]] },
    {
      name: 'rocket_client_errors_total',
      type: 'counter',
      help: 'Requests the server refused, by status.',
      samples: [...metrics.clientErrors].sort((a, b) => a[0] - b[0]).map(([status, n]) => [`{code="${status}"}`, n] as [string, number]),
    },
    { name: 'rocket_app_errors_total', type: 'counter', help: 'Requests whose application failed.', samples: [['', metrics.appErrors]] },
    { name: 'rocket_timeouts_total', type: 'counter', help: 'Deadlines that fired: request heads, bodies, stalled readers, waits for a worker.', samples: [['', metrics.timeouts]] },
    { name: 'rocket_received_bytes_total', type: 'counter', help: 'Bytes received from clients.', samples: [['', snapshot.bytes.received]] },
    { name: 'rocket_sent_bytes_total', type: 'counter', help: 'Bytes sent to clients.', samples: [['', snapshot.bytes.sent]] },
  ];
  let text = '';
  for (const family of families) {
    text += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    for (const [labels, value] of family.samples) text += `${family.name}${labels} ${value}\n`;
  }
  const latency = metrics.latency;
  const name = 'rocket_request_duration_seconds';
  text += `# HELP ${name} Time from a complete request head to the end of its response.\n# TYPE ${name} histogram\n`;
  let cumulative = 0;
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    cumulative += latency.buckets[i]!;
    text += `${name}_bucket{le="${LATENCY_BUCKETS[i]}"} ${cumulative}\n`;
  }
  text += `${name}_bucket{le="+Inf"} ${latency.count}\n${name}_sum ${latency.sum}\n${name}_count ${latency.count}\n`;
  return text;
}
