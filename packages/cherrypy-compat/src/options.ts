/**
 * CherryPy's attributes turned into Rocket's options and interface: the ones a running server
 * reads again when an attribute changes (`liveOptions`), the rest at `start()`, and the TLS the
 * adapter or the certificate attributes ask for. The server class is the one `ServerSettings`.
 */

import { hostname } from 'node:os';
import { OPTIONS, type ClientErrorReply, type HttpError, type Logger, type RocketOptions } from '@rocketserver/core';
import type { BindAddr } from './args.js';
import { BuiltinSSLAdapter, type SSLAdapter } from './ssl.js';
import { refusalFor, simpleResponse } from './wire.js';

/** Python's logging levels, as `error_log` receives them. */
export const LOG_LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 } as const;

/** Text for the Server header: printable characters only. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** The attributes of a `CherryPyWSGIServer` that its Rocket is configured from. */
export interface ServerSettings {
  readonly bind_addr: BindAddr;
  readonly timeout: number;
  readonly protocol: 'HTTP/1.1' | 'HTTP/1.0';
  readonly version: string;
  readonly server_name: string | null;
  readonly numthreads: number;
  readonly max: number;
  readonly request_queue_size: number;
  readonly shutdown_timeout: number;
  readonly accepted_queue_size: number;
  readonly accepted_queue_timeout: number;
  readonly nodelay: boolean;
  readonly max_request_header_size: number;
  readonly max_request_body_size: number;
  readonly keep_alive_conn_limit: number | null;
  readonly ssl_adapter: SSLAdapter | null;
  readonly ssl_certificate: string | null;
  readonly ssl_private_key: string | null;
  readonly ssl_certificate_chain: string | null;
  error_log(msg?: string, level?: number, traceback?: boolean): void;
}

/** The options a running server takes from the attributes on its next request (`updateOptions`). */
export function liveOptions(server: ServerSettings): RocketOptions {
  const headerLimit = server.max_request_header_size;
  return {
    timeout: server.timeout,
    socketTimeout: server.timeout,
    protocol: server.protocol,
    serverSoftware: headerSafe(server.server_name || server.version),
    maxBodySize: Math.max(0, Math.trunc(server.max_request_body_size) || 0),
    maxHeaderSize: headerLimit > 0 ? Math.max(64, headerLimit) : OPTIONS.maxHeaderSize.default(),
    maxRequestLine: headerLimit > 0 ? Math.max(16, headerLimit) : OPTIONS.maxRequestLine.default(),
    maxIdleConnections: server.keep_alive_conn_limit === null ? 0 : Math.max(0, Math.trunc(server.keep_alive_conn_limit)),
  };
}

/** Every option of the Rocket underneath, read from the attributes at `start()`. */
export function rocketOptions(server: ServerSettings): RocketOptions {
  const min = Math.max(1, Math.trunc(server.numthreads) || 1);
  const logger: Logger = {
    debug: (message) => server.error_log(message, LOG_LEVELS.DEBUG),
    // Rocket's start-up lines; cheroot says nothing when it starts.
    info: (message) => server.error_log(message, LOG_LEVELS.DEBUG),
    warn: (message) => server.error_log(message, LOG_LEVELS.WARNING),
    error: (message) => server.error_log(message, LOG_LEVELS.ERROR),
  };
  return {
    ...liveOptions(server),
    minThreads: min,
    maxThreads: server.max > 0 ? Math.max(min, Math.trunc(server.max)) : 0,
    queueSize: server.accepted_queue_size < 0 ? Number.MAX_SAFE_INTEGER : Math.trunc(server.accepted_queue_size),
    queueTimeout: Math.max(0, server.accepted_queue_timeout),
    backlog: Math.max(1, Math.trunc(server.request_queue_size) || 1),
    shutdownTimeout: Math.max(0, server.shutdown_timeout),
    serverName: server.server_name || hostname(),
    noDelay: server.nodelay,
    handleSignals: false,
    connectionHeaders: 'minimal',
    eagerContinue: true,
    requireHost: false,
    idle408: true,
    logger,
    onClientError: (error: HttpError, reply: ClientErrorReply) => {
      reply.end(simpleResponse(server.protocol, refusalFor(error, reply.received)));
      return true;
    },
  };
}

/** Rocket's interface for `bind_addr`, with TLS when an adapter (or the certificate attributes) says so. */
export function rocketInterface(server: ServerSettings): unknown {
  const bind = server.bind_addr;
  if (typeof bind === 'string') return bind;
  const host = bind[0] ?? '';
  const port = bind[1];
  if (bind.length > 2) return [host, port, ...bind.slice(2)];
  let adapter = server.ssl_adapter;
  if (adapter === null && server.ssl_certificate && server.ssl_private_key) {
    adapter = new BuiltinSSLAdapter(server.ssl_certificate, server.ssl_private_key, server.ssl_certificate_chain);
  }
  if (adapter === null) return [host, port];
  const verify = adapter.context.verify_mode !== 'CERT_NONE' && adapter.certificate_chain !== null;
  return verify ? [host, port, adapter.private_key, adapter.certificate, adapter.certificate_chain] : [host, port, adapter.private_key, adapter.certificate];
}
