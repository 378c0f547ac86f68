/**
 * The harness of cheroot's test suite, in TypeScript (reference §6.0): a compat server started
 * with no app on a loopback port whose app and limits are assigned once it runs, a `Controller`
 * that dispatches on the exact PATH_INFO, a capture of `error_log`, and the bytes of cheroot's
 * "simple responses". Everything started here is stopped when the test finishes.
 */

import { expect, onTestFinished } from 'vitest';
import { CherryPyWSGIServer, type ServerArgs } from '@rocketserver/cherrypy-compat';
import type { Environ, GatewayApp, GatewayBody } from '@rocketserver/core';
import { RawClient } from '../../packages/core/test/helpers/raw-client.js';

export { RawClient };

/** One `error_log` call. */
export interface LogCall {
  msg: string;
  level: number;
}

/** What a handler may change: cheroot's `helper.Response`. */
export interface Resp {
  status: string;
  headers: [string, string][];
}

/** `handler(req, resp)`: a string (sent ISO-8859-1 with Content-Length), any other body, or nothing. */
export type Handler = (environ: Environ, resp: Resp) => unknown;

/**
 * cheroot's `helper.Controller`: the handler for the exact PATH_INFO, or `404 Not Found` with an
 * empty body. Status `200 OK` and `Content-Type: text/html` by default; a string output gets
 * `Content-Length` (unless the handler set one, or the status is 204/304, which send no body).
 */
export function controller(handlers: Record<string, Handler>): GatewayApp {
  return async (environ, start) => {
    const resp: Resp = { status: '200 OK', headers: [['Content-Type', 'text/html']] };
    const handler = Object.prototype.hasOwnProperty.call(handlers, environ.PATH_INFO) ? handlers[environ.PATH_INFO] : undefined;
    let body: GatewayBody = [];
    if (handler === undefined) {
      resp.status = '404 Not Found';
    } else {
      const output = await handler(environ, resp);
      const bodiless = resp.status.startsWith('204') || resp.status.startsWith('304');
      if (output !== undefined && output !== null && !bodiless) {
        if (typeof output === 'string') {
          const bytes = Buffer.from(output, 'latin1');
          if (!resp.headers.some(([name]) => name.toLowerCase() === 'content-length')) resp.headers.push(['Content-Length', String(bytes.length)]);
          body = [bytes];
        } else {
          body = output as GatewayBody;
        }
      }
    }
    start(resp.status, resp.headers);
    return body;
  };
}

/** `'/Юххууу'.encode('utf-8').decode('latin-1')`: the PATH_INFO WSGI gives for non-ASCII paths. */
export function munge(path: string): string {
  return Buffer.from(path, 'utf8').toString('latin1');
}

export interface Harness {
  server: CherryPyWSGIServer;
  port: number;
  host: string;
  logs: LogCall[];
  /** `serve()`: settles when the server stops. */
  served: Promise<void>;
  /** A raw client on the server's port, destroyed when the test finishes. */
  connect(): Promise<RawClient>;
}

export interface StartOptions {
  /** Loopback address to bind. Default 127.0.0.1. */
  host?: string;
  /** Constructor arguments by name (`timeout` decides how finely the server checks deadlines). */
  args?: Partial<ServerArgs>;
  /** Runs before `prepare()`: TLS adapters, signal handling. */
  before?: (server: CherryPyWSGIServer) => void;
}

/**
 * cheroot's fixture: construct with `wsgi_app=None`, `shutdown_timeout=0`; `prepare()`, `serve()`;
 * then assign the app and `configure` the limits on the running server.
 */
export async function startServer(
  app: GatewayApp | null,
  configure?: (server: CherryPyWSGIServer) => void,
  options: StartOptions = {},
): Promise<Harness> {
  const host = options.host ?? '127.0.0.1';
  const server = new CherryPyWSGIServer({ bind_addr: [host, 0], wsgi_app: null, shutdown_timeout: 0, ...options.args });
  server.handle_signals = false;
  const logs: LogCall[] = [];
  server.error_log = (msg = '', level = 20) => {
    logs.push({ msg: String(msg), level });
  };
  options.before?.(server);
  await server.prepare();
  onTestFinished(async () => {
    await server.stop();
  });
  const served = server.serve();
  served.catch(() => {});
  server.wsgi_app = app;
  configure?.(server);
  const port = (server.bind_addr as readonly [string, number])[1];
  return {
    server,
    port,
    host,
    logs,
    served,
    connect: async () => track(await RawClient.connect(port, host)),
  };
}

/** Destroy `client` when the test finishes. */
export function track<T extends RawClient>(client: T): T {
  onTestFinished(() => client.destroy());
  return client;
}

/** A request head: `METHOD target PROTOCOL`, `Host` (unless `host` is false), `headers`, CRLF. */
export function request(method: string, target: string, headers: string[] = [], protocol = 'HTTP/1.1', host = true): string {
  let head = `${method} ${target} ${protocol}\r\n`;
  if (host) head += 'Host: 127.0.0.1\r\n';
  for (const header of headers) head += `${header}\r\n`;
  return `${head}\r\n`;
}

/** The exact bytes of cheroot's `simple_response` (§6.0): no Date, no Server. */
export function simple(protocol: string, status: string, msg = '', connectionClose = false): string {
  let head = `${protocol} ${status}\r\nContent-Length: ${Buffer.byteLength(msg, 'latin1')}\r\nContent-Type: text/plain\r\n`;
  if (connectionClose) head += 'Connection: close\r\n';
  return `${head}\r\n${msg}`;
}

/** Everything the server sends until it closes, as latin1 text. */
export async function untilClosed(client: RawClient, timeout = 5000): Promise<string> {
  return (await client.readToEnd(timeout)).toString('latin1');
}

/**
 * Read until the server closes and check for exactly one simple response whose body starts
 * with `prefix` (for refusals whose full text the checklist does not give).
 */
export async function expectSimplePrefix(client: RawClient, protocol: string, status: string, prefix: string): Promise<void> {
  const all = await untilClosed(client);
  const split = all.indexOf('\r\n\r\n');
  expect(split, `no response head in ${JSON.stringify(all)}`).toBeGreaterThan(0);
  const body = all.slice(split + 4);
  expect(all.slice(0, split + 4)).toBe(`${protocol} ${status}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\nContent-Type: text/plain\r\n\r\n`);
  expect(body.startsWith(prefix), `body ${JSON.stringify(body)} should start with ${JSON.stringify(prefix)}`).toBe(true);
}

/** Log calls above WARNING (cheroot's error-log monitor fails a test_conn test on any of them). */
export function errorsLogged(logs: LogCall[]): LogCall[] {
  return logs.filter((call) => call.level > 30);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection after `ms`: for "within N seconds" checks. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
