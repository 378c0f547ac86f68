/**
 * Shared pieces of the realtime tests (ws, socket.io, @fastify/websocket on Rocket): plain and TLS
 * servers, client options for the test CA, bounded waits and a cleanup stack run after each test.
 */

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { once } from 'node:events';
import { createServer, type CreateServerOptions, type RequestListener, type RocketServer } from '@rocketserver/adapter-node';
import { makeCerts, type TestCerts } from '../../packages/core/test/helpers/certs.js';
import { RawClient } from '../../packages/core/test/helpers/raw-client.js';

export type Mode = 'plain' | 'tls';
export const MODES: Mode[] = ['plain', 'tls'];

let certs: TestCerts | null = null;

/** The test certificates, made once per file (call `removeCerts()` in afterAll). */
export function testCerts(): TestCerts {
  certs ??= makeCerts();
  return certs;
}

export function removeCerts(): void {
  certs?.remove();
  certs = null;
}

/** The CA clients trust, as PEM text. */
export function caPem(): string {
  const c = testCerts();
  return c.read(c.caCert).toString('latin1');
}

// ---- bounded waits ----

/** `promise`, or a rejection naming `what` after `ms` milliseconds. */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The first `event` of `emitter`, bounded. Resolves with the event's arguments. */
export function next<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: any[]) => void): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return within(
    new Promise<T>((resolve) => {
      emitter.once(event, (...args: unknown[]) => resolve(args as T));
    }),
    `'${event}'`,
    ms,
  );
}

/** A promise resolved from outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// ---- cleanup ----

const cleanups: (() => unknown)[] = [];

/** Run `fn` after the current test (last registered, first run). */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** For afterEach: run every cleanup, each bounded, and report the first failure. */
export async function runCleanups(): Promise<void> {
  let failure: unknown = null;
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await within(Promise.resolve().then(fn), 'a cleanup', 3000);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== null) throw failure;
}

// ---- servers ----

/** A Rocket createServer for `mode`, closed after the test if it still listens. */
export function makeServer(mode: Mode, listener?: RequestListener, options: CreateServerOptions = {}): RocketServer {
  const c = mode === 'tls' ? testCerts() : null;
  const server = createServer(c === null ? options : { ...options, tls: { keyFile: c.serverKey, certFile: c.serverCert } }, listener);
  onCleanup(() => closeServer(server));
  return server;
}

/** Close a server if it listens (its callback, bounded). */
export function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return within(new Promise<void>((resolve) => server.close(() => resolve())), 'server.close()', 3000);
}

/** Listen on 127.0.0.1, port 0; resolves with the port. */
export async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  if (!server.listening) await within(once(server, 'listening'), "'listening'");
  return (server.address() as net.AddressInfo).port;
}

export function httpUrl(mode: Mode, port: number, path = '/'): string {
  return `${mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}${path}`;
}

export function wsUrl(mode: Mode, port: number, path = '/'): string {
  return `${mode === 'tls' ? 'wss' : 'ws'}://127.0.0.1:${port}${path}`;
}

/** TLS options for clients: trust the test CA (the server certificate names 127.0.0.1 too). */
export function clientTls(mode: Mode): { ca?: string } {
  return mode === 'tls' ? { ca: caPem() } : {};
}

/** A GET on a fresh connection; resolves with status and body. */
export function httpGet(mode: Mode, port: number, path: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const lib = mode === 'tls' ? https : http;
  return within(
    new Promise((resolve, reject) => {
      const req = lib.get(httpUrl(mode, port, path), { agent: false, ...clientTls(mode) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
    }),
    `GET ${path}`,
  );
}

/** A raw client (plain TCP or TLS with the test CA), destroyed after the test. */
export async function rawConnect(mode: Mode, port: number): Promise<RawClient> {
  const client = mode === 'tls' ? await RawClient.connectTls(port, { ca: caPem() }) : await RawClient.connect(port);
  onCleanup(() => client.destroy());
  return client;
}

// ---- WebSocket frames, for raw clients ----

/** A masked client frame (FIN set) with `opcode` and `payload` (< 64 KiB). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** Parse one unmasked server frame (payload < 64 KiB) from the start of `buf`, or null if incomplete. */
export function parseServerFrame(buf: Buffer): { fin: boolean; opcode: number; payload: Buffer; size: number } | null {
  if (buf.length < 2) return null;
  const fin = (buf[0]! & 0x80) !== 0;
  const opcode = buf[0]! & 0x0f;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    throw new Error('frame too large for this parser');
  }
  if (buf.length < offset + length) return null;
  return { fin, opcode, payload: buf.subarray(offset, offset + length), size: offset + length };
}

export const UPGRADE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const UPGRADE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A WebSocket upgrade request for `path`. */
export function upgradeRequest(path: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${UPGRADE_KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}
