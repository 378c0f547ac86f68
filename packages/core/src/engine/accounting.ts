/**
 * Counting a response once it is over: the request metrics, the access-log line and the
 * `rocket.request.finish` diagnostics channel, for a response the app made and for one the server
 * made itself (a refusal, a 500, a 503). The exchange's `accounted` flag makes each count happen
 * once, whichever way the exchange ends.
 */

import type { ConnectionInfo } from '../gateway/environ.js';
import type { RequestHead } from '../http/request-head.js';
import type { AccessRecord } from '../observability/access-log.js';
import { requestFinish } from '../observability/diagnostics.js';
import type { LogChannels } from '../observability/logging.js';
import type { RequestMetrics } from '../observability/metrics.js';
import type { Exchange } from './exchange.js';

/** Where a server counts its responses. */
export interface AccountingServer {
  readonly logs: LogChannels;
  readonly metrics: RequestMetrics;
  /** The access log's line builder; null when the access log is off. */
  accessLine(): ((record: AccessRecord) => string) | null;
}

/** Who a server-made response answers: the exchange, or the head, or the first line received. */
export interface Refused {
  exchange?: Exchange | null;
  head?: RequestHead | null;
  rawLine?: string | undefined;
}

/** A request is over: once in the metrics, the access log and diagnostics_channel. */
export function accountExchange(server: AccountingServer, info: ConnectionInfo, exchange: Exchange, status = exchange.response.statusCode): void {
  if (exchange.accounted) return;
  exchange.accounted = true;
  const metrics = server.metrics;
  metrics.inFlight--;
  const durationMs = performance.now() - exchange.startTime;
  const bytes = exchange.response.bytesSent;
  metrics.responded(status, durationMs, false);
  logAccess(server, status, bytes, exchange.head, exchange.receivedAt, durationMs, '-', exchange.environ.REMOTE_ADDR);
  if (requestFinish.hasSubscribers) requestFinish.publish({ environ: exchange.environ, connection: info, status, bytes, durationMs });
}

/**
 * A response the server made itself (a refusal, a 500, a 503): metrics and access log.
 * `headStarted`: when the first byte of the refused head arrived (ms), or 0.
 */
export function accountRefusal(server: AccountingServer, info: ConnectionInfo, status: number, bytes: number, about: Refused, headStarted: number): void {
  const exchange = about.exchange ?? null;
  if (exchange !== null) {
    if (exchange.accounted) return;
    exchange.accounted = true;
    server.metrics.inFlight--;
  }
  const startedAt = exchange?.receivedAt ?? (headStarted || Date.now());
  const durationMs = exchange !== null ? performance.now() - exchange.startTime : Date.now() - startedAt;
  server.metrics.responded(status, durationMs, status < 500);
  logAccess(server, status, bytes, exchange?.head ?? about.head ?? null, startedAt, durationMs, about.rawLine ?? '-', exchange?.environ.REMOTE_ADDR ?? info.remoteAddress);
  if (exchange !== null && requestFinish.hasSubscribers) {
    requestFinish.publish({ environ: exchange.environ, connection: info, status, bytes, durationMs });
  }
}

/** `remoteAddress`: the client as the environ has it, after a trusted proxy's forwarded headers. */
function logAccess(
  server: AccountingServer,
  status: number,
  bytes: number,
  head: RequestHead | null,
  startTime: number,
  durationMs: number,
  rawLine: string,
  remoteAddress: string,
): void {
  const requests = server.logs.requests;
  if (!requests.enabled('info')) return;
  const line = server.accessLine();
  if (line === null) return;
  const version = head === null ? '' : head.version === 11 ? 'HTTP/1.1' : 'HTTP/1.0';
  requests.info(
    line({
      remoteAddress,
      requestLine: head === null ? rawLine : `${head.method} ${head.target} ${version}`,
      method: head?.method ?? '',
      target: head?.target ?? '',
      protocol: version,
      status,
      bytes,
      startTime,
      durationMs,
      header: (name) => (head === null ? undefined : headerValue(head.rawHeaders, name)),
    }),
  );
}

/** The first value of a header field in raw `[name, value, …]` pairs, case-insensitive. */
function headerValue(raw: readonly string[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === wanted) return raw[i + 1];
  return undefined;
}
