/**
 * Differential harness: the same app, served once by `node:http` and once by Rocket (through
 * `@rocketserver/adapter-node` / `@rocketserver/adapter-fastify`), driven by the same client
 * scenario over real sockets; what the client sees and the events the app's `req`/`res`/socket
 * emit must be the same on both (node-bridge.md §7.7, §7.8).
 *
 * What is compared
 * ----------------
 * - every response: status, reason, interim (1xx) responses, header fields in order (names
 *   case-insensitive, values exact) without `Date`, `Connection`, `Keep-Alive`, `Server` and the
 *   framing fields; the framing fields by the rule in {@link compareFraming}; the decoded body
 *   bytes; trailers; for a truncated response, everything received before the cut;
 * - whether the server kept or closed the connection (a probe request, answered by the harness
 *   wrapper without reaching the app);
 * - the event trace of each request: `'finish'`, `'close'`, `'end'`, `'aborted'`, `'error'`,
 *   `'drain'`, `'timeout'` on `req`, `res` and `req.socket`, in order, with the flags
 *   (`complete`, `aborted`, `destroyed` / `headersSent`, `writableEnded`, `writableFinished`,
 *   `destroyed`) at each of them, plus the app's own notes (`hooks.note(...)`).
 *
 * Differences that are by design are all in {@link INTENTIONAL}: each says what it allows and is
 * applied only where its precondition holds (or where a test names it), never by loosening a
 * comparison elsewhere.
 *
 * Where the §7.7 rows are:
 * - streaming.test.ts: 1 streaming without Content-Length, 2 ways of ending, 3 SSE/flushHeaders,
 *   4 response backpressure;
 * - head-and-status.test.ts: 6 HEAD, 7 204/205/304 and conditional GET, 18 redirects, 32 1xx;
 * - static.test.ts: 8 files (ranges, large file, abort mid-file, descriptors);
 * - abort.test.ts: 9 client gone (long-poll, SSE, download, upload, multipart);
 * - events.test.ts: 10 normal completion, 31 stream contract, 33 diagnostics_channel;
 * - errors.test.ts: 11 errors after the head, 12 errors before it;
 * - body.test.ts: 5 request backpressure, 13 trailers, 14 Expect, 15 limits and unread bodies,
 *   16 multipart, 25 bodies without Content-Length;
 * - headers.test.ts: 17 cookies, 20 writeHead and header edge cases, 21 Content-Length mismatch,
 *   22 keep-alive/Connection/HTTP/1.0;
 * - compression.test.ts: 19; request-info.test.ts: 23 URLs, 24 ip/protocol/TLS/IPv6, 27 async
 *   context, 30 prototype isolation; timeouts.test.ts: 26; fastify-inject.test.ts: 34.
 * - request-head.test.ts: what reaches the app and what is refused before it (transfer codings,
 *   malformed percent-escapes, Host, heads refused at their first bad line);
 *   lifecycle.test.ts: listen/close forms whose effects show at once, compared on two servers.
 *
 * Covered elsewhere and not repeated here:
 * - 28 WebSocket / upgrade: test/adapter-node/server.test.ts ('upgrade' events, Upgrade without a
 *   listener) and test/examples.test.ts (examples/websocket.mjs with ws).
 * - 29 server lifecycle (listen/close/closeAll/closeIdle/getConnections/supertest):
 *   test/adapter-node/server.test.ts and lifecycle.test.ts (Fastify's listen/close through the factory is exercised by
 *   every Fastify test here).
 * - 33 OpenTelemetry: not installed; only its diagnostics_channel side is tested (events.test.ts).
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { afterEach, expect } from 'vitest';
import { createServer } from '@rocketserver/adapter-node';
import { serverFactory as rocketServerFactory } from '@rocketserver/adapter-fastify';
import { parseResponse, RawClient, type RawResponse } from '../../packages/core/test/helpers/raw-client.js';

export type Side = 'node' | 'rocket';
export type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

// ---------------------------------------------------------------------------------------------
// Intentional differences: the one place where Rocket may differ from node:http.
// ---------------------------------------------------------------------------------------------

export const INTENTIONAL = {
  /** Always applied. README "Responses": "`Date` and `Server` are added unless the app sets them". */
  serverHeader:
    'Rocket adds `Server: Rocket/<version>` when the app sets none; node:http sends no Server header. ' +
    "`Server` is compared only when the app set one (then node:http's value must be Rocket's).",
  /** Always applied. README "Responses"; node-bridge.md §0.2: the core frames for its own connection. */
  framing:
    'Rocket frames the response for its own connection: `Transfer-Encoding` is always Rocket\'s, and where node:http ' +
    'frames an empty body chunked (writeHead()+end()), Rocket may send `Content-Length: 0` instead. A Content-Length ' +
    'node:http sends is always compared; any other framing change is a difference.',
  /** Always applied. packages/core/src/gateway/response.ts ("no content at all for HEAD, 204, 205 and 304"); RFC 9110 §8.6, §15.3.6. */
  bodilessStatus:
    'Rocket follows RFC 9110 for 204 and 205: it drops a Content-Length the app set on a 204 (node:http passes it on), ' +
    'and a 205 carries no content and says `Content-Length: 0` (node:http sends whatever the app wrote, framed as ' +
    'for a 200). For a 204 the missing Content-Length is accepted; for a 205 Rocket must send an empty body with ' +
    '`Content-Length: 0`, and node:http\'s body and framing are not compared; when node:http sent its 205 without ' +
    'any framing (its end is the end of the connection), the connection\'s fate is not compared either.',
  /** Always applied. bridge-socket.ts: the socket's readable side carries nothing; the server reads the connection. */
  socketAfterFinish:
    "The bridge socket lives as long as the connection, as node:http's does, but the server reads the connection, not " +
    "Node's parser: the socket does not report a client's half-close ('end', and the 'finish' of node:http's reply to " +
    "it), the parser's or the system's error when a client leaves between requests, or a server 'timeout' on an idle " +
    "keep-alive connection (Rocket's keep-alive timeout closes it). Socket events after res 'finish', and socket " +
    "'end'/'finish', are not compared.",
  /** Always applied: a normalisation, not a Rocket difference. */
  drainCount:
    "How many 'drain' events a response sees depends on how fast the client reads, on node:http alone as well: " +
    'a run of consecutive drain events in a trace (socket and res alternate) is compared as the distinct entries in it.',
  /** Always applied: a normalisation, not a Rocket difference. */
  resetRace:
    "Whether a client that leaves with response bytes unread is seen as a reset (socket 'error' ECONNRESET, then " +
    "'close') or a plain close depends on what the kernel had delivered when it closed, on node:http alone as well: " +
    "a socket 'error' with ECONNRESET right before the socket's 'close' is not compared.",
  /** Opt-in per test. README "HTTP/1.1, strictly": "`100 Continue` is sent when the app first reads the body". */
  lazyContinue:
    'node:http sends `100 Continue` as soon as it dispatches an `Expect: 100-continue` request (no checkContinue ' +
    'listener); Rocket sends it when the app first reads the body. When the app answers without reading, Rocket sends ' +
    'no 100 and closes the connection after the response ("the client may or may not send the body"). The body ' +
    "then never arrives, so the dumped req never emits 'end'/'close', which node:http's do after the response.",
  /** Opt-in per test. README option `maxDrainSize` (256 KiB). */
  drainLimit:
    'A request body the app did not read is discarded by node:http however large it is (req._dump()); Rocket drains ' +
    'at most maxDrainSize (256 KiB) and otherwise closes the connection after the response; that dumped req never ' +
    "emits 'end'/'close', which node:http's do after the response.",
  /** Opt-in per test. README "HTTP/1.1, strictly": refusals are Rocket\'s own responses. */
  coreRefusal:
    'Requests Rocket refuses before the app sees them (`Expect` other than 100-continue → 417, non-ASCII target → 400, ' +
    'over-long request line → 414, …) get Rocket\'s short text body and `Connection: close`; node:http answers ' +
    'some of them itself with other bodies, or passes them to the app. Only the status is compared.',
  /** Opt-in per test. README "Responses" + "The gateway contract": the app's Content-Length is honoured. */
  lengthMismatch:
    'When the app sends fewer or more bytes than its Content-Length, node:http sends what was written and keeps the ' +
    'connection (the client waits for the rest or misparses the excess as the next response); Rocket sends at most ' +
    'Content-Length bytes and closes the connection. Compared: the head and the body as far as Content-Length; on ' +
    'Rocket, no byte more and a closed connection, whatever node:http did after.',
  /** Opt-in per test. README "Responses"/"HTTP/1.1": never chunked to HTTP/1.0, never 1xx to HTTP/1.0 (RFC 9110 §15.2, RFC 9112 §6.1). */
  http10:
    'To an HTTP/1.0 client Rocket never sends a chunked body (node:http does when the request says `TE: chunked`) nor a ' +
    '1xx interim response (node:http sends what the app writes); a streamed body is delimited by closing the connection.',
  /** Opt-in per test. README "HTTP/1.1, strictly" (persistence); RFC 9112 §9.6. */
  closeStopsPipeline:
    'After a response that says `Connection: close`, node:http still parses the requests pipelined behind it and ' +
    'dispatches them to the app, then destroys them unanswered; Rocket reads no further request. Requests node:http ' +
    "dispatched after such a response (never answered: no res 'finish') are left out of the trace comparison, and " +
    "the unread body of the refused request never emits 'end'/'close' on Rocket.",
  /** Asserted in events.test.ts only. node-bridge.md §7.2 item 3: "body-less requests: complete = true; push(null) up front". */
  completeUpFront:
    "For a request without a body, the bridge sets req.complete = true before dispatch; node:http dispatches from " +
    "llhttp's on-headers-complete and sets it a moment later, so a handler reading req.complete synchronously sees " +
    "false there. Not compared in general (the traces' flags are taken at events, after both set it).",
  /** Opt-in per test. README "Operations" → "Stopping": requests in flight finish, then their connections close. */
  closeEndsBusy:
    "server.close() on node:http closes the connections idle at that moment; one busy with a request then stays open " +
    '(keep-alive) after its response. Rocket lets the request finish and then closes that connection too.',
  /** Opt-in per test. README option `maxRequestsPerConnection`: "the last response says Connection: close". */
  maxRequests:
    'With maxRequestsPerSocket = N, Rocket closes the connection after the N-th response (having answered requests ' +
    'already pipelined behind it with 503, as node:http does); node:http keeps it open and answers a request sent ' +
    'later on it with its own 503 and `Connection: close`.',
  /** Opt-in per test: not a difference of Rocket's, a race on either server. */
  bodyTiming:
    "When the app answers while it is still reading a body that arrives in many pieces, whether its req 'end' comes " +
    "before or after res 'finish' and 'close' depends on how fast the last pieces arrive: both traces are compared " +
    "with res 'finish' and 'close' ahead of the req 'end'/'close' just before them.",
} as const;

export type Allowance =
  | 'lazyContinue'
  | 'drainLimit'
  | 'coreRefusal'
  | 'lengthMismatch'
  | 'http10'
  | 'closeStopsPipeline'
  | 'closeEndsBusy'
  | 'maxRequests'
  | 'bodyTiming';

// ---------------------------------------------------------------------------------------------
// Hooks shared by the app and the scenario of one side: latching signals, notes, the recorder.
// ---------------------------------------------------------------------------------------------

interface Latch {
  done: boolean;
  value: unknown;
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
}

export class Hooks {
  readonly side: Side;
  readonly recorder = new Recorder();
  /** Free-form values the app wants compared (e.g. what `write()` returned). */
  readonly values: Record<string, unknown> = {};
  /** Anything the app wants to hand the scenario (not compared). */
  readonly locals: Record<string, any> = {};
  #latches = new Map<string, Latch>();

  constructor(side: Side) {
    this.side = side;
  }

  #latch(name: string): Latch {
    let latch = this.#latches.get(name);
    if (latch === undefined) {
      let resolve!: (value: unknown) => void;
      const promise = new Promise<unknown>((r) => (resolve = r));
      latch = { done: false, value: undefined, promise, resolve };
      this.#latches.set(name, latch);
    }
    return latch;
  }

  /** Signal `name` (once; later signals are ignored). Either side may signal, either may wait. */
  signal(name: string, value?: unknown): void {
    const latch = this.#latch(name);
    if (latch.done) return;
    latch.done = true;
    latch.value = value;
    latch.resolve(value);
  }

  signalled(name: string): boolean {
    return this.#latches.get(name)?.done ?? false;
  }

  /** Wait for `name`, bounded: a scenario that never gets there fails instead of hanging. */
  wait(name: string, timeout = 3000): Promise<unknown> {
    const latch = this.#latch(name);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`[${this.side}] timed out waiting for '${name}'`)), timeout);
      timer.unref();
      latch.promise.then((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }

  /** App-side wait that never rejects (an app must not crash the process when a test gives up). */
  gate(name: string): Promise<unknown> {
    return this.#latch(name).promise;
  }

  /** Record an app-level observation in the trace of the request `of` belongs to (req, res or ctx). */
  note(of: unknown, label: string, value?: unknown): void {
    this.recorder.note(of, label, value);
  }
}

// ---------------------------------------------------------------------------------------------
// Event-trace recorder.
// ---------------------------------------------------------------------------------------------

const WATCHED = new Set(['finish', 'close', 'end', 'aborted', 'error', 'drain', 'timeout']);

export interface RequestTrace {
  index: number;
  method: string;
  url: string;
  events: string[];
  /** Socket events after res 'finish' (see INTENTIONAL.socketAfterFinish): kept for debugging only. */
  ignored: string[];
  req: http.IncomingMessage;
  res: http.ServerResponse;
  socket: net.Socket;
  finished: boolean;
  /** How many watched emits are on the stack (notes made inside one are marked nested). */
  depth: number;
}

function flag(value: unknown): string {
  return value ? '1' : '0';
}

function reqFlags(req: http.IncomingMessage): string {
  return `complete=${flag(req.complete)} aborted=${flag(req.aborted)} destroyed=${flag(req.destroyed)}`;
}

function resFlags(res: http.ServerResponse): string {
  return `headersSent=${flag(res.headersSent)} writableEnded=${flag(res.writableEnded)} writableFinished=${flag(res.writableFinished)} destroyed=${flag(res.destroyed)}`;
}

function describeArg(event: string, arg: unknown): string {
  if (event !== 'error' || arg === undefined) return '';
  const error = arg as NodeJS.ErrnoException;
  return `(${error.code ?? error.message})`;
}

export class Recorder {
  readonly requests: RequestTrace[] = [];
  #byObject = new WeakMap<object, RequestTrace>();
  #socketCurrent = new WeakMap<object, RequestTrace>();

  attach(req: http.IncomingMessage, res: http.ServerResponse): RequestTrace {
    const trace: RequestTrace = {
      index: this.requests.length,
      method: req.method ?? '',
      url: req.url ?? '',
      events: [],
      ignored: [],
      req,
      res,
      socket: req.socket,
      finished: false,
      depth: 0,
    };
    this.requests.push(trace);
    this.#byObject.set(req, trace);
    this.#byObject.set(res, trace);
    wrapEmit(req, trace, (event, arg) => trace.events.push(`req:${event}${describeArg(event, arg)} {${reqFlags(req)}}`));
    wrapEmit(res, trace, (event, arg) => {
      if (event === 'finish') trace.finished = true;
      trace.events.push(`res:${event}${describeArg(event, arg)} {${resFlags(res)}}`);
    });
    const socket = req.socket as net.Socket & { [kWrapped]?: true };
    this.#socketCurrent.set(socket, trace);
    if (socket !== null && socket !== undefined && !socket[kWrapped]) {
      socket[kWrapped] = true;
      wrapEmit(socket, () => this.#socketCurrent.get(socket), (event, arg) => {
        const current = this.#socketCurrent.get(socket);
        if (current === undefined) return;
        const entry = `socket:${event}${describeArg(event, arg)} {destroyed=${flag(socket.destroyed)}}`;
        (current.finished ? current.ignored : current.events).push(entry);
      });
    }
    return trace;
  }

  /** The trace `of` (a req, res, Koa ctx or Fastify request/reply) belongs to. */
  find(of: unknown): RequestTrace | undefined {
    if (of === null || typeof of !== 'object') return undefined;
    const o = of as Record<string, unknown>;
    for (const candidate of [o, o.req, o.res, o.raw, (o.request as Record<string, unknown> | undefined)?.raw]) {
      if (candidate !== null && typeof candidate === 'object') {
        const trace = this.#byObject.get(candidate);
        if (trace !== undefined) return trace;
      }
    }
    return undefined;
  }

  note(of: unknown, label: string, value?: unknown): void {
    const trace = this.find(of) ?? this.requests[this.requests.length - 1];
    if (trace === undefined) throw new Error(`note '${label}' before any request`);
    // A note made by a listener while req/res/socket emits is marked as nested in that event.
    const nested = trace.depth > 0 ? '↳ ' : '';
    trace.events.push(value === undefined ? `${nested}note:${label}` : `${nested}note:${label}=${JSON.stringify(value)}`);
  }

  /** Every request seen so far got res 'close' (the last event node:http emits for it). */
  settled(): boolean {
    return this.requests.every((t) => t.events.some((e) => e.startsWith('res:close')));
  }
}

const kWrapped = Symbol('differential.wrapped');

function wrapEmit(
  target: { emit: (event: string | symbol, ...args: unknown[]) => boolean },
  trace: RequestTrace | (() => RequestTrace | undefined),
  record: (event: string, arg: unknown) => void,
): void {
  const original = target.emit;
  target.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (typeof event !== 'string' || !WATCHED.has(event)) return original.call(this, event, ...args);
    record(event, args[0]);
    const t = typeof trace === 'function' ? trace() : trace;
    if (t !== undefined) t.depth++;
    try {
      return original.call(this, event, ...args);
    } finally {
      if (t !== undefined) t.depth--;
    }
  } as typeof target.emit;
}

// ---------------------------------------------------------------------------------------------
// Apps.
// ---------------------------------------------------------------------------------------------

export interface ListenerApp {
  kind: 'listener';
  listener: Listener;
  /** Called with the server before it listens (e.g. to add 'checkContinue' listeners, set timeouts). */
  configure?: (server: http.Server, hooks: Hooks) => void;
  /** Serve HTTPS: `https.createServer` on node:http, `createServer({ tls })` on Rocket. */
  tls?: { keyFile: string; certFile: string; ca: Buffer };
  /** Listen here instead of 127.0.0.1. */
  host?: string;
}

/** A Fastify instance built with the given serverFactory (the harness listens and closes it). */
export interface FastifyApp {
  kind: 'fastify';
  build: (serverFactory: (handler: Listener, options: Record<string, unknown>) => http.Server) => FastifyLike | Promise<FastifyLike>;
}

export interface FastifyLike {
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<unknown>;
  ready(): Promise<unknown>;
  server: http.Server;
}

export type AppDef = ListenerApp | FastifyApp;
export type AppFactory = (hooks: Hooks) => AppDef | Promise<AppDef>;

/** The wrapper every side's listener goes through: answers the harness probe, attaches the recorder. */
function instrument(listener: Listener, hooks: Hooks): Listener {
  return function (this: unknown, req, res) {
    if (req.url === PROBE_PATH) {
      req.resume();
      res.setHeader('Content-Type', 'text/plain');
      res.end('probe');
      return;
    }
    hooks.recorder.attach(req, res);
    listener.call(this, req, res);
  };
}

const PROBE_PATH = '/__differential_probe';

/** expect.poll options: bounded, and checked often (the conditions are cheap). */
export const POLL = { timeout: 2000, interval: 5 };

// ---------------------------------------------------------------------------------------------
// Client side: responses as the client sees them.
// ---------------------------------------------------------------------------------------------

/** A response as compared. */
export interface Seen {
  status: number;
  reason: string;
  /** 1xx responses before this one: `status reason` + headers. */
  interim: string[];
  /** Non-framing, non-excluded header fields in order: `name: value`, name lower-cased. */
  headers: string[];
  /** Framing as sent, compared by {@link compareFraming}. */
  contentLength: string | null;
  transferEncoding: string | null;
  /** Server header as sent (compared only when node:http's app set one). */
  server: string | null;
  /** Decoded body: text when short and printable, else length + sha256. */
  body: string;
  trailers: string[];
  /** False when the connection ended before the response was complete. */
  complete: boolean;
  /** Counts of Date / Connection / Keep-Alive fields (never more than one each). */
  once: Record<string, number>;
}

const EXCLUDED = new Set(['date', 'connection', 'keep-alive', 'server', 'content-length', 'transfer-encoding']);

export function describeBody(body: Buffer): string {
  const printable = body.length <= 2048 && /^[\x09\x0a\x0d\x20-\x7e]*$/.test(body.toString('latin1'));
  if (printable) return body.toString('latin1');
  return `<${body.length} bytes sha256:${createHash('sha256').update(body).digest('hex').slice(0, 16)}>`;
}

function seenFrom(headers: [string, string][], status: number, reason: string, body: Buffer, trailers: [string, string][], complete: boolean, interim: string[]): Seen {
  const find = (name: string) => headers.filter(([n]) => n.toLowerCase() === name);
  const once: Record<string, number> = {};
  for (const name of ['date', 'connection', 'keep-alive', 'server', 'content-length', 'transfer-encoding']) once[name] = find(name).length;
  return {
    status,
    reason,
    interim,
    headers: headers.filter(([n]) => !EXCLUDED.has(n.toLowerCase())).map(([n, v]) => `${n.toLowerCase()}: ${v}`),
    contentLength: find('content-length')[0]?.[1] ?? null,
    transferEncoding: find('transfer-encoding')[0]?.[1] ?? null,
    server: find('server')[0]?.[1] ?? null,
    body: describeBody(body),
    trailers: trailers.map(([n, v]) => `${n.toLowerCase()}: ${v}`),
    complete,
    once,
  };
}

function seen(response: RawResponse, interim: string[]): Seen {
  return seenFrom(response.headers, response.status, response.reason, response.body, response.trailers, true, interim);
}

function interimLine(response: RawResponse): string {
  return [`${response.status} ${response.reason}`, ...response.headers.map(([n, v]) => `${n.toLowerCase()}: ${v}`)].join(' | ');
}

/** What arrived of a response the server cut: the head and as much of the body as can be decoded. */
export function parsePartial(buf: Buffer, isHead: boolean): Seen | null {
  const partial = decodePartial(buf, isHead);
  if (partial === null) return null;
  return seenFrom(partial.headers, partial.status, partial.reason, partial.body, [], false, []);
}

/** The decoded body bytes received so far of a response (chunked or not). */
export function partialBody(buf: Buffer): Buffer {
  return decodePartial(buf, false)?.body ?? Buffer.alloc(0);
}

function decodePartial(buf: Buffer, isHead: boolean): { status: number; reason: string; headers: [string, string][]; body: Buffer } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(lines[0]!);
  if (m === null) return null;
  const headers = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const te = headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1];
  let offset = headEnd + 4;
  const parts: Buffer[] = [];
  if (!isHead && te !== undefined && /chunked/i.test(te)) {
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', offset);
      if (lineEnd === -1) break;
      const size = parseInt(buf.toString('latin1', offset, lineEnd), 16);
      if (!(size > 0)) break;
      const start = lineEnd + 2;
      parts.push(buf.subarray(start, Math.min(start + size, buf.length)));
      offset = start + size + 2;
      if (offset > buf.length) break;
    }
  } else if (!isHead) {
    parts.push(buf.subarray(offset));
  }
  return { status: Number(m[1]), reason: m[2]!, headers, body: Buffer.concat(parts) };
}

export class Client {
  readonly raw: RawClient;
  constructor(raw: RawClient) {
    this.raw = raw;
  }

  send(data: string | Buffer): Promise<void> {
    return this.raw.write(data).catch(() => undefined);
  }

  /** The next final response (1xx before it are collected in `interim`). */
  async read(options: { head?: boolean; timeout?: number } = {}): Promise<Seen> {
    const interim: string[] = [];
    for (;;) {
      const response = await this.raw.readResponse({ head: options.head === true, timeout: options.timeout ?? 3000 });
      if (response.status >= 100 && response.status < 200 && response.status !== 101) {
        interim.push(interimLine(response));
        continue;
      }
      return seen(response, interim);
    }
  }

  /**
   * The next response, complete or not: when the server cuts the connection mid-response, what
   * arrived (see {@link parsePartial}) with `complete: false`; `null` if not even a head came.
   */
  async readOutcome(options: { head?: boolean; timeout?: number } = {}): Promise<Seen | null> {
    try {
      return await this.read(options);
    } catch (error) {
      if (!this.raw.ended) throw error;
      return parsePartial(this.raw.pending, options.head === true);
    }
  }

  /** The next response: a 1xx interim one (as a line), or the final one. */
  async readInterimOrFinal(options: { head?: boolean; timeout?: number } = {}): Promise<{ interim: string } | { final: Seen }> {
    const response = await this.raw.readResponse({ head: options.head === true, timeout: options.timeout ?? 3000 });
    if (response.status >= 100 && response.status < 200 && response.status !== 101) return { interim: interimLine(response) };
    return { final: seen(response, []) };
  }

  /**
   * Did the server keep the connection? Sends a probe request the harness wrapper answers without
   * reaching the app: 'open' if it is answered, 'closed' if the connection ends instead.
   */
  async probe(timeout = 3000): Promise<string> {
    if (this.raw.ended) return 'closed';
    await this.send(`GET ${PROBE_PATH} HTTP/1.1\r\nHost: probe\r\n\r\n`);
    try {
      const response = await this.raw.readResponse({ timeout });
      // Answered by the server itself rather than the harness wrapper (node:http's 503 past maxRequestsPerSocket).
      if (response.body.toString() !== 'probe') return `answered ${response.status} by the server`;
      return 'open';
    } catch (error) {
      if (this.raw.ended) return 'closed';
      throw error;
    }
  }

  /**
   * Read one large response until the server closes the connection (send it with
   * `Connection: close`): one copy of the bytes instead of one per arriving chunk.
   */
  async readToClose(options: { head?: boolean; timeout?: number } = {}): Promise<Seen> {
    const all = await this.raw.readToEnd(options.timeout ?? 5000);
    const parsed = parseResponse(all, options.head === true, true);
    if (parsed === null || !('response' in parsed)) {
      const partial = parsePartial(all, options.head === true);
      if (partial === null) throw new Error(`no response before the connection closed: ${JSON.stringify(all.subarray(0, 200).toString('latin1'))}`);
      return partial;
    }
    return seen(parsed.response, []);
  }

  /** Wait until the server ends the connection (bounded). */
  waitEnd(timeout = 3000): Promise<void> {
    return this.raw.waitEnd(timeout);
  }

  destroy(): void {
    this.raw.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Running one side.
// ---------------------------------------------------------------------------------------------

export interface Ctx {
  side: Side;
  port: number;
  hooks: Hooks;
  server: http.Server;
  /** A new connection (to `host` instead of the address the server listens on, if given). */
  connect(host?: string): Promise<Client>;
  /** One request on a new connection: the response, and whether the connection stayed open. */
  exchange(request: string | Buffer, options?: { head?: boolean; probe?: boolean }): Promise<{ response: Seen; connection: string }>;
  /** Wait until the app's traces are settled: every request got res 'close' (bounded). */
  settle(timeout?: number): Promise<void>;
}

interface Running {
  server: http.Server;
  port: number;
  host: string;
  ca?: Buffer;
  close(): Promise<void>;
}

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function startSide(side: Side, factory: AppFactory, hooks: Hooks): Promise<Running> {
  const def = await factory(hooks);
  if (def.kind === 'listener') {
    const listener = instrument(def.listener, hooks);
    const tls = def.tls;
    let server: http.Server;
    if (side === 'node') {
      server = tls === undefined ? http.createServer(listener) : (https.createServer({ key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) }, listener) as unknown as http.Server);
    } else {
      server = createServer({ rocket: { logger: quietLogger }, ...(tls === undefined ? {} : { tls: { keyFile: tls.keyFile, certFile: tls.certFile } }) }, listener);
    }
    def.configure?.(server, hooks);
    const host = def.host ?? '127.0.0.1';
    server.listen(0, host);
    await once(server, 'listening');
    return {
      server,
      port: (server.address() as net.AddressInfo).port,
      host,
      ...(tls === undefined ? {} : { ca: tls.ca }),
      close: () => closeServer(server),
    };
  }
  const factoryFor = (handler: Listener, options: Record<string, unknown>): http.Server => {
    const wrapped = instrument(handler, hooks);
    if (side === 'rocket') return rocketServerFactory(wrapped, options);
    // What Fastify does to a server it creates itself, and what adapter-fastify's factory does.
    const server = http.createServer(wrapped);
    if (typeof options.keepAliveTimeout === 'number') server.keepAliveTimeout = options.keepAliveTimeout;
    if (typeof options.requestTimeout === 'number') server.requestTimeout = options.requestTimeout;
    if (typeof options.connectionTimeout === 'number') server.setTimeout(options.connectionTimeout);
    if (typeof options.maxRequestsPerSocket === 'number') server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
  const fastify = await def.build(factoryFor);
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const server = fastify.server;
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    close: async () => {
      server.closeAllConnections?.();
      await bounded(fastify.close(), 3000);
    },
  };
}

async function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await bounded(closed, 3000);
}

function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export interface SideResult<T> {
  side: Side;
  result: T;
  traces: RequestTrace[];
  hooks: Hooks;
}

export async function runSide<T>(side: Side, factory: AppFactory, scenario: (ctx: Ctx) => Promise<T>): Promise<SideResult<T>> {
  const hooks = new Hooks(side);
  const running = await startSide(side, factory, hooks);
  const clients: Client[] = [];
  let closed = false;
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    for (const c of clients) c.destroy();
    await running.close();
  };
  cleanups.push(shutdown);
  const ctx: Ctx = {
    side,
    port: running.port,
    hooks,
    server: running.server,
    async connect(host?: string) {
      const raw = running.ca === undefined ? await RawClient.connect(running.port, host ?? running.host) : await RawClient.connectTls(running.port, { ca: running.ca });
      const client = new Client(raw);
      clients.push(client);
      return client;
    },
    async exchange(request, options = {}) {
      const client = await ctx.connect();
      await client.send(request);
      const response = await client.read({ head: options.head });
      const connection = options.probe === false ? 'open' : await client.probe();
      client.destroy();
      return { response, connection };
    },
    async settle(timeout = 1500) {
      await expect.poll(() => hooks.recorder.settled(), { timeout, interval: 5 }).toBe(true);
    },
  };
  try {
    const result = await scenario(ctx);
    await bounded(ctx.settle(1000), 1100);
    return { side, result, traces: hooks.recorder.requests, hooks };
  } finally {
    await shutdown();
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison.
// ---------------------------------------------------------------------------------------------

export interface DifferentialOptions {
  /** Intentional differences this scenario may show (see INTENTIONAL). */
  allow?: Allowance[];
  /** Compare the event traces (default true). */
  traces?: boolean;
}

function isSeen(value: unknown): value is Seen {
  return value !== null && typeof value === 'object' && 'status' in value && 'headers' in value && 'once' in value;
}

/**
 * Make node:http's and Rocket's observations of one response comparable: framing fields per
 * INTENTIONAL.framing, Server per INTENTIONAL.serverHeader, and the opt-in allowances. Returns
 * [node, rocket, whether an allowance explains Rocket closing a connection node:http kept].
 */
function normaliseSeen(node: Seen, rocket: Seen, allow: Set<Allowance>): [unknown, unknown, Allowance | null] {
  const problems: string[] = [];
  let closeAllowedBy: Allowance | null = null;
  // Rocket sends each of these at most once, ever ("never send two", node-bridge.md §0.2).
  for (const name of ['date', 'connection', 'keep-alive', 'server', 'content-length', 'transfer-encoding']) {
    if (rocket.once[name]! > 1) problems.push(`Rocket sent ${rocket.once[name]} ${name} fields`);
  }
  if (node.status === 204 && node.contentLength !== null && rocket.contentLength === null) node = { ...node, contentLength: null };
  if (node.status === 205 && rocket.status === 205) {
    if (rocket.body !== '' || !(rocket.contentLength === '0' || (rocket.contentLength === null && node.contentLength === null))) {
      problems.push(`Rocket's 205 should be empty with Content-Length: 0, got ${rocket.contentLength} / ${JSON.stringify(rocket.body)}`);
    }
    node = { ...node, body: '', contentLength: rocket.contentLength, transferEncoding: rocket.transferEncoding };
  }
  if (!allow.has('http10') && !allow.has('coreRefusal')) {
    const framing = compareFraming(node, rocket);
    if (framing !== null) problems.push(framing);
  }
  if (node.server !== null && node.server !== rocket.server) problems.push(`app's Server ${node.server} became ${rocket.server}`);
  const strip = (s: Seen) => {
    const { once: _once, contentLength: _cl, transferEncoding: _te, server: _server, ...rest } = s;
    return rest;
  };
  let n: Record<string, unknown> = strip(node);
  let r: Record<string, unknown> = strip(rocket);
  if (allow.has('lazyContinue')) {
    const is100 = (i: string) => i.startsWith('100 ');
    if (rocket.interim.some(is100) && !node.interim.some(is100)) problems.push('Rocket sent a 100 Continue node:http did not');
    if (node.interim.some(is100) && !rocket.interim.some(is100)) closeAllowedBy = 'lazyContinue';
    n = { ...n, interim: node.interim.filter((i) => !is100(i)) };
    r = { ...r, interim: rocket.interim.filter((i) => !is100(i)) };
  }
  if (allow.has('http10')) {
    // No 1xx to HTTP/1.0 on Rocket; trailers need the chunked framing Rocket does not use there;
    // the framing itself may differ (close-delimited instead of chunked).
    n = { ...n, interim: [], trailers: [] };
    r = { ...r, interim: [], trailers: [] };
    if (node.transferEncoding !== null && rocket.transferEncoding === null) closeAllowedBy = 'http10';
    else {
      const framing = compareFraming(node, rocket);
      if (framing !== null) problems.push(framing);
    }
  }
  if (allow.has('coreRefusal')) {
    // Rocket refused: node:http may have refused too (then with the same status) or passed the request on.
    n = { refusal: node.status >= 400 ? node.status : 'refused' };
    r = { refusal: rocket.status >= 400 ? (node.status >= 400 ? rocket.status : 'refused') : `not refused: ${rocket.status}` };
    closeAllowedBy = 'coreRefusal';
  }
  if (allow.has('drainLimit')) closeAllowedBy = 'drainLimit';
  if (allow.has('closeStopsPipeline')) closeAllowedBy = 'closeStopsPipeline';
  if (allow.has('closeEndsBusy')) closeAllowedBy = 'closeEndsBusy';
  if (allow.has('maxRequests')) closeAllowedBy = 'maxRequests';
  return [{ ...n, problems }, { ...r, problems: [] }, closeAllowedBy];
}

/**
 * INTENTIONAL.framing. Null when Rocket's framing fields are acceptable for what node:http sent.
 */
export function compareFraming(node: Seen, rocket: Seen): string | null {
  if (node.contentLength !== null) {
    if (rocket.contentLength !== node.contentLength) return `Content-Length: node:http ${node.contentLength}, Rocket ${rocket.contentLength}`;
    if (rocket.transferEncoding !== null) return `Rocket sent Transfer-Encoding ${rocket.transferEncoding} with Content-Length`;
    return null;
  }
  if (rocket.contentLength !== null) {
    const emptyChunked = node.transferEncoding !== null && rocket.contentLength === '0' && node.body === '' && node.trailers.length === 0;
    if (!emptyChunked) {
      return `Rocket sent Content-Length ${rocket.contentLength} where node:http sent none (Transfer-Encoding ${node.transferEncoding})`;
    }
    return null;
  }
  if (node.transferEncoding !== null && rocket.transferEncoding === null && rocket.complete && node.complete) {
    return `node:http sent Transfer-Encoding ${node.transferEncoding}, Rocket neither chunked nor Content-Length`;
  }
  if (node.transferEncoding === null && rocket.transferEncoding !== null) {
    return `Rocket sent Transfer-Encoding ${rocket.transferEncoding} where node:http delimited the body otherwise`;
  }
  return null;
}

/** A Content-Length mismatch observation: the response as far as its Content-Length, what came after, the connection. */
export interface Mismatch {
  lengthMismatch: true;
  response: Seen;
  extra: string;
  connection: 'open' | 'closed';
}

function isMismatch(value: unknown): value is Mismatch {
  return value !== null && typeof value === 'object' && (value as { lengthMismatch?: unknown }).lengthMismatch === true;
}

function isExchange(value: unknown): value is { response: Seen; connection: string } {
  return value !== null && typeof value === 'object' && isSeen((value as { response?: unknown }).response) && 'connection' in value;
}

/** Walk two observations in parallel; normalise every pair of responses. */
function normalise(node: unknown, rocket: unknown, allow: Set<Allowance>): [unknown, unknown] {
  if (isSeen(node) && isSeen(rocket)) {
    const [n, r] = normaliseSeen(node, rocket, allow);
    return [n, r];
  }
  if (allow.has('lengthMismatch') && isMismatch(node) && isMismatch(rocket)) {
    const [n, r] = normaliseSeen(node.response, rocket.response, allow);
    const verdict = rocket.extra === '' && rocket.connection === 'closed'
      ? 'node:http: whatever it did; Rocket: no byte past Content-Length, connection closed (INTENTIONAL.lengthMismatch)'
      : `Rocket: ${JSON.stringify(rocket.extra)} past Content-Length, connection ${rocket.connection}`;
    return [
      { response: n, after: 'node:http: whatever it did; Rocket: no byte past Content-Length, connection closed (INTENTIONAL.lengthMismatch)' },
      { response: r, after: verdict },
    ];
  }
  if (isExchange(node) && isExchange(rocket)) {
    const [n, r, closeAllowedBy] = normaliseSeen(node.response, rocket.response, allow);
    const [restN, restR] = normalise({ ...node, response: undefined }, { ...rocket, response: undefined }, allow);
    const nn = { ...(restN as object), response: n } as Record<string, unknown>;
    const rr = { ...(restR as object), response: r } as Record<string, unknown>;
    if (closeAllowedBy !== null && node.connection !== 'closed' && rocket.connection === 'closed') {
      nn.connection = rr.connection = `${node.connection} on node:http, closed on Rocket (INTENTIONAL.${closeAllowedBy})`;
    }
    // INTENTIONAL.bodilessStatus: a 205 node:http sent without framing ends only with the
    // connection; Rocket's says `Content-Length: 0`, so its connection may stay open.
    const unframed205 = node.response.status === 205 && node.response.contentLength === null && node.response.transferEncoding === null;
    if (unframed205 && rocket.response.status === 205 && rocket.response.contentLength === '0') {
      nn.connection = rr.connection = `${node.connection} on node:http (no framing), either on Rocket (INTENTIONAL.bodilessStatus)`;
    }
    return [nn, rr];
  }
  if (Array.isArray(node) && Array.isArray(rocket)) {
    const n: unknown[] = [];
    const r: unknown[] = [];
    for (let i = 0; i < Math.max(node.length, rocket.length); i++) {
      const [a, b] = normalise(node[i], rocket[i], allow);
      n.push(a);
      r.push(b);
    }
    return [n, r];
  }
  if (node !== null && rocket !== null && typeof node === 'object' && typeof rocket === 'object' && !Buffer.isBuffer(node)) {
    const n: Record<string, unknown> = {};
    const r: Record<string, unknown> = {};
    const nn = node as Record<string, unknown>;
    const rr = rocket as Record<string, unknown>;
    for (const key of new Set([...Object.keys(nn), ...Object.keys(rr)])) {
      const [a, b] = normalise(nn[key], rr[key], allow);
      n[key] = a;
      r[key] = b;
    }
    return [n, r];
  }
  return [node, rocket];
}

/**
 * A trace as compared: socket 'end'/'finish' dropped (INTENTIONAL.socketAfterFinish), drains collapsed
 * (INTENTIONAL.drainCount), a reset right before the close dropped (INTENTIONAL.resetRace).
 */
export function comparableTrace(traces: RequestTrace[], bodyTiming = false): { request: string; events: string[] }[] {
  return traces.map((t) => {
    const events: string[] = [];
    let drains: string[] | null = null;
    for (let i = 0; i < t.events.length; i++) {
      const e = t.events[i]!;
      if (e.startsWith('socket:end') || e.startsWith('socket:finish')) continue;
      if (e.startsWith('socket:error(ECONNRESET)') && t.events[i + 1]?.startsWith('socket:close')) continue;
      if (e.includes(':drain ')) {
        // A run of drains (socket and res alternate) is compared as the distinct entries in it.
        if (drains === null) drains = [];
        if (!drains.includes(e)) {
          drains.push(e);
          events.push(e);
        }
        continue;
      }
      drains = null;
      events.push(e);
    }
    const blocks: string[][] = [];
    for (const e of events) {
      if (e.startsWith('↳ ') && blocks.length > 0) blocks[blocks.length - 1]!.push(e);
      else blocks.push([e]);
    }
    if (bodyTiming) {
      // INTENTIONAL.bodyTiming: res 'finish' and 'close' go ahead of the req 'end'/'close' just before them.
      for (let i = 1; i < blocks.length; i++) {
        if (!/^res:(finish|close)/.test(blocks[i]![0]!)) continue;
        let j = i;
        while (j > 0 && /^req:(end|close)/.test(blocks[j - 1]![0]!)) {
          [blocks[j - 1], blocks[j]] = [blocks[j]!, blocks[j - 1]!];
          j--;
        }
      }
    }
    return { request: `${t.method} ${t.url}`, events: blocks.flat() };
  });
}

export interface Differential<T> {
  node: SideResult<T>;
  rocket: SideResult<T>;
}

/**
 * Run `scenario` against `factory`'s app on node:http, then on Rocket, and compare what the
 * client saw and the event traces. Returns both sides for further assertions.
 */
export async function differential<T>(factory: AppFactory, scenario: (ctx: Ctx) => Promise<T>, options: DifferentialOptions = {}): Promise<Differential<T>> {
  const node = await runSide('node', factory, scenario);
  const rocket = await runSide('rocket', factory, scenario);
  const allow = new Set(options.allow ?? []);
  const [n, r] = normalise(node.result, rocket.result, allow);
  expect.soft(r, 'what the client saw: Rocket (received) vs node:http (expected); `problems` lists framing rules Rocket broke').toEqual(n);
  if (options.traces !== false) {
    let nodeTraces = node.traces;
    if (allow.has('closeStopsPipeline')) {
      // INTENTIONAL.closeStopsPipeline: node:http's extra, never-answered requests at the end.
      nodeTraces = nodeTraces.filter((t, i) => i < rocket.traces.length || t.events.some((e) => e.startsWith('res:finish')));
    }
    if (allow.has('lazyContinue') || allow.has('drainLimit') || allow.has('closeStopsPipeline')) {
      // The unread body that Rocket never receives whole: node:http's req 'end'/'close' after the response.
      nodeTraces = nodeTraces.map((t) => {
        const finish = t.events.findIndex((e) => e.startsWith('res:finish'));
        if (finish < 0 || t.req.readableEnded === false) return t;
        const rocketTrace = rocket.traces[t.index];
        if (rocketTrace === undefined || rocketTrace.req.readableEnded) return t;
        const events = t.events.filter((e, i) => i < finish || !(e.startsWith('req:end') || e.startsWith('req:close')));
        return { ...t, events };
      });
    }
    const bodyTiming = allow.has('bodyTiming');
    expect.soft(comparableTrace(rocket.traces, bodyTiming), 'event traces: Rocket (received) vs node:http (expected)').toEqual(comparableTrace(nodeTraces, bodyTiming));
  }
  expect.soft(rocket.hooks.values, 'app-side values: Rocket (received) vs node:http (expected)').toEqual(node.hooks.values);
  return { node, rocket };
}

/** The same app, with `configure(server, hooks)` called before it listens (listener apps only). */
export function withServer(factory: AppFactory, configure: (server: http.Server, hooks: Hooks) => void): AppFactory {
  return async (hooks) => {
    const def = await factory(hooks);
    if (def.kind !== 'listener') throw new Error('withServer() is for listener apps');
    return { ...def, configure: (server, h) => { def.configure?.(server, h); configure(server, h); } };
  };
}

/** `GET`-style request text. */
export function req(method: string, target: string, headers: Record<string, string | number> = {}, body = '', version = '1.1'): string {
  let text = `${method} ${target} HTTP/${version}\r\nHost: localhost\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return `${text}\r\n${body}`;
}
