/**
 * Whether a connection serves another request after the current one: the server's half of the
 * keep-alive decision (the request's half is `requestWantsKeepAlive`, `http/framing.ts`; the
 * body's is the exchange's `canKeepAlive`), and what becomes of requests a client pipelined past
 * `maxRequestsPerConnection`. The connection asks when a response is committed and when one is
 * done; it keeps the counts.
 */

import type { ConnectionInfo } from '../gateway/environ.js';
import { connectionOptions, requestWantsKeepAlive } from '../http/framing.js';
import { HeadScan, parseRequestHead, type HeadLimits, type RequestHead } from '../http/request-head.js';
import type { ResolvedOptions } from '../options.js';
import { accountRefusal, type AccountingServer } from './accounting.js';
import type { Output } from './output.js';
import type { ReadBuffer } from './read-buffer.js';
import { refusalBytes } from './refusals.js';

/** What the keep-alive decision needs from the server. */
export interface KeepAliveServer {
  readonly options: Pick<ResolvedOptions, 'maxRequestsPerConnection' | 'maxIdleConnections'>;
  /** True while the server stops: no response keeps its connection open. */
  readonly stopping: boolean;
  /** How many connections wait, idle, for a request (for maxIdleConnections). */
  idleConnections(): number;
}

/**
 * Do the client and the server both allow another request after `head`'s response? The request
 * asks; the server allows unless it stops, the connection `retiring`, the connection reached its
 * request limit (`requests` served before this one), the client shut its side with nothing left
 * to read (`peerGone`), or idle connections are at their limit. `protocolVersion`: 11, or 10 when
 * the server speaks HTTP/1.0.
 *
 * @example
 * allowsAnotherRequest(server, head, 11, conn.requests, false, false); // true for a plain HTTP/1.1 GET
 */
export function allowsAnotherRequest(
  server: KeepAliveServer,
  head: RequestHead,
  protocolVersion: number,
  requests: number,
  retiring: boolean,
  peerGone: boolean,
): boolean {
  const options = server.options;
  const max = options.maxRequestsPerConnection;
  return (
    !server.stopping &&
    !retiring &&
    (max === 0 || requests + 1 < max) &&
    // A client that shut down its side can still have pipelined requests waiting here.
    !peerGone &&
    // A server speaking HTTP/1.0 keeps a connection only when the client asks, whatever its version.
    requestWantsKeepAlive(Math.min(head.version, protocolVersion), head.connection === null ? 0 : connectionOptions(head.connection)) &&
    // Last, as it counts the server's connections.
    (options.maxIdleConnections === 0 || server.idleConnections() < options.maxIdleConnections)
  );
}

/** The connection served `requests`, the most `max` allows (0: no limit), and more came after them. */
export function pastRequestLimit(max: number, requests: number, input: ReadBuffer): boolean {
  return max !== 0 && requests >= max && !input.empty;
}

/** What answering requests past the limit needs from the server. */
export interface LimitServer extends AccountingServer {
  readonly options: ResolvedOptions;
  readonly headLimits: HeadLimits;
}

/**
 * The connection served its last allowed request, and the client pipelined more behind it: each
 * request already whole in `input` gets a 503 with `Connection: close` rather than silence, as
 * node:http answers them. Only what was received is answered, and nothing is read after it: a
 * request with a body ends the run, since its body would have to be read to find the next.
 * `headStarted`: when the first of them arrived (ms), or 0.
 */
export function refusePastLimit(input: ReadBuffer, output: Output, server: LimitServer, info: ConnectionInfo, headStarted: number): void {
  const scan = new HeadScan();
  while (!input.empty) {
    let head: RequestHead | null;
    try {
      head = parseRequestHead(input.buf!, input.start, input.end, server.headLimits, scan);
    } catch {
      return;
    }
    if (head === null) return;
    input.consume(head.size);
    scan.reset();
    const { bytes, bodyLength } = refusalBytes(server.options, 503, 'the connection served its last request', '', head.method === 'HEAD');
    output.send(bytes);
    accountRefusal(server, info, 503, bodyLength, { head }, headStarted);
    if (head.contentLength !== null || head.transferEncoding !== null) return;
  }
}
