/**
 * Every private part of Node's HTTP server objects the bridge touches, in one place.
 *
 * The bridge hands apps genuine `http.IncomingMessage` and `http.ServerResponse` objects and plays
 * the part of node:http's server around them (`_http_server.js`: parserOnIncoming, resOnFinish,
 * socketOnDrain). That part reads and writes state Node keeps on those objects without
 * documenting it. `test/adapter-node/node-internals.test.ts` checks each item below against the
 * running Node, so a Node version that changes one fails loudly there instead of quietly here.
 */

import http from 'node:http';
import type { Socket } from 'node:net';

/** What the bridge reads and sets on an `IncomingMessage`. */
export type InternalRequest = http.IncomingMessage & {
  /** Adds raw header (or trailer) lines; `headers` and `rawHeaders` are built from them, with Node's duplicate rules. */
  _addHeaderLines(headers: readonly string[], n: number): void;
  /** Someone reads the body (set by `_read`): otherwise node:http dumps it after the response. */
  _consuming: boolean;
  /** Discard the body nobody read. */
  _dump(): void;
  _readableState: { resumeScheduled: boolean };
};

/** What the bridge reads and sets on a `ServerResponse`. */
export type InternalResponse = http.ServerResponse & {
  /** The serialised head, once `writeHead` (or the first write) made it: validated by Node. */
  _header: string | null;
  /** Set by Node's `_send` before it writes the head to the socket. */
  _headerSent: boolean;
  /** Set when `'close'` was emitted. */
  _closed: boolean;
  /** Seconds-in-milliseconds of the `Keep-Alive: timeout=` hint Node writes; 0 = none. */
  _keepAliveTimeout: number;
};

/** Add raw header (or trailer) pairs to `req`, as node:http's parser does: `rawHeaders`, and `headers` built lazily with Node's duplicate rules. */
export function addHeaderLines(req: http.IncomingMessage, fields: readonly string[]): void {
  (req as InternalRequest)._addHeaderLines(fields, fields.length);
}

/** Someone reads `req`'s body: node:http will not dump it after the response. */
export function markConsuming(req: http.IncomingMessage): void {
  (req as InternalRequest)._consuming = true;
}

/**
 * The head Node serialised for `res`, once it is sending it: Node marks it sent (`_headerSent`)
 * before it writes it to the socket. A head made but not sent yet (`writeHead()` alone) is null
 * here, so nothing else written to the socket meanwhile can pass for it.
 */
export function serialisedHead(res: http.ServerResponse): string | null {
  const internal = res as InternalResponse;
  return internal._headerSent ? internal._header : null;
}

/** What node:http's server keeps on a connection's socket. */
export interface InternalSocket {
  /** The response writing to this socket now (Node's `assignSocket`/`detachSocket` set it). */
  _httpMessage: http.ServerResponse | null;
}

/** Node's private "a 'drain' is owed" flag on a response, found by its description; undefined if it is gone. */
export const kNeedDrain: symbol | undefined = (() => {
  const req = new http.IncomingMessage(null as unknown as Socket);
  return Object.getOwnPropertySymbols(new http.ServerResponse(req)).find((s) => s.description === 'kNeedDrain');
})();

/**
 * After a response is done (its `'finish'`), what node:http's resOnFinish does for `res` and
 * `req`: dump a body nobody read, let go of the socket, and emit `res 'close'` on the next tick.
 */
export function releaseResponse(req: InternalRequest, res: InternalResponse, socket: Socket): void {
  if (!req._consuming && !req._readableState.resumeScheduled) req._dump();
  res.detachSocket(socket);
  process.nextTick(emitResponseClose, res);
}

/** node:http's emitCloseNT. */
function emitResponseClose(res: InternalResponse): void {
  if (res._closed) return;
  res.destroyed = true;
  res._closed = true;
  res.emit('close');
}

/** The client read enough: tell `res` it may write again, as node:http's socketOnDrain does. */
export function responseDrained(res: http.ServerResponse): void {
  if (res.finished || res.destroyed) return;
  const state = res as unknown as Record<symbol, unknown>;
  if (kNeedDrain === undefined) {
    if (res.writableNeedDrain) res.emit('drain');
  } else if (state[kNeedDrain] === true) {
    state[kNeedDrain] = false;
    res.emit('drain');
  }
}

/** The response writing to `socket` now, if any. */
export function currentResponse(socket: object): http.ServerResponse | null {
  return (socket as InternalSocket)._httpMessage ?? null;
}

/** The symbol Node's server and responses keep the `uniqueHeaders` option under, found by its description. */
const kUniqueHeaders: symbol | undefined = (() => {
  const server = http.createServer({ uniqueHeaders: ['x-probe'] });
  return Object.getOwnPropertySymbols(server).find((s) => s.description === 'kUniqueHeaders');
})();

/** `createServer({ uniqueHeaders })` as Node's server parsed it, or undefined. */
export function uniqueHeadersOf(server: http.Server): unknown {
  return kUniqueHeaders === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[kUniqueHeaders];
}

/** Give `res` the server's `uniqueHeaders`, as node:http's parserOnIncoming does. */
export function setUniqueHeaders(res: http.ServerResponse, value: unknown): void {
  if (kUniqueHeaders !== undefined) (res as unknown as Record<symbol, unknown>)[kUniqueHeaders] = value;
}
