/**
 * Shared helpers for the framework matrix: start servers and close them after each test, a plain
 * HTTP client that keeps the body bytes exactly as they arrived (no decompression) and every
 * header line, temporary directories that are removed again, deterministic payloads.
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export { RawClient } from '../../packages/core/test/helpers/raw-client.js';

/** A started server: its port and base URL. */
export interface Served<S extends http.Server = http.Server> {
  server: S;
  port: number;
  url: string;
}

const servers: http.Server[] = [];
const directories: string[] = [];

/** Wait until `server` listens; it is closed by {@link closeServers}. */
export async function served<S extends http.Server>(server: S): Promise<Served<S>> {
  servers.push(server);
  // Rejects with the error if the server cannot listen.
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `http://127.0.0.1:${port}` };
}

/** For afterEach: close every server started by a test. */
export async function closeServers(): Promise<void> {
  for (const server of servers.splice(0)) {
    if (server.listening) await new Promise((resolve) => server.close(() => resolve(undefined)));
  }
}

/** A temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'rocket-frameworks-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  directories.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** `n` bytes that do not compress (a deterministic xorshift stream). */
export function noise(n: number, seed = 1): Buffer<ArrayBuffer> {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** About `n` bytes of text that compresses, but not to nothing: numbered lines. */
export function text(n: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < n; i++) {
    const line = `line ${i}: the quick brown fox ${(i * 2654435761) % 1000003} jumps over the lazy dog\n`;
    parts.push(line);
    size += line.length;
  }
  return parts.join('').slice(0, n);
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The files every static-file test serves, in a fresh temporary directory. */
export interface StaticFiles {
  dir: string;
  hello: string;
  css: string;
  html: string;
  big: Buffer;
  /** Size of `huge.bin`: a sparse file of zeros, larger than every socket buffer on the way. */
  hugeSize: number;
}

export function staticDir(): StaticFiles {
  const dir = tempDir('rocket-static-');
  const files = {
    dir,
    hello: 'Hello from a static file.\n',
    css: 'body { color: #333; }\n',
    html: '<!doctype html><title>index</title><p>index page</p>\n',
    big: noise(2 * MiB, 7),
    hugeSize: 64 * MiB,
  };
  writeFileSync(path.join(dir, 'hello.txt'), files.hello);
  writeFileSync(path.join(dir, 'style.css'), files.css);
  writeFileSync(path.join(dir, 'index.html'), files.html);
  writeFileSync(path.join(dir, 'big.bin'), files.big);
  // Sparse: costs no disk and no time unless read, for tests where the client leaves mid-file.
  writeFileSync(path.join(dir, 'huge.bin'), '');
  truncateSync(path.join(dir, 'huge.bin'), files.hugeSize);
  return files;
}

/** What {@link send} gives back: the body exactly as received, every header line. */
export interface Reply {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  /** `[name, value, …]` as received. */
  rawHeaders: string[];
  body: Buffer;
  text: string;
  /** Every value of a header line, case-insensitive, one per line as received. */
  lines(name: string): string[];
  /** The body after undoing `Content-Encoding` (gzip, br, deflate). */
  decoded(): Buffer;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
  agent?: http.Agent | false;
}

/**
 * One request with node:http's client, on its own connection: the response body is kept as the
 * bytes that arrived (no decompression), so encodings and lengths can be checked.
 */
export function send(url: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[] | number> = { ...options.headers };
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    if (body !== undefined && !options.chunked) headers['content-length'] = body.length;
    if (options.chunked) headers['transfer-encoding'] = 'chunked';
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({
          status: res.statusCode!,
          statusMessage: res.statusMessage!,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: bytes,
          text: bytes.toString('utf8'),
          lines(name: string) {
            const out: string[] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              if (res.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(res.rawHeaders[i + 1]!);
            }
            return out;
          },
          decoded() {
            const encoding = res.headers['content-encoding'];
            if (encoding === 'gzip') return zlib.gunzipSync(bytes);
            if (encoding === 'br') return zlib.brotliDecompressSync(bytes);
            if (encoding === 'deflate') return zlib.inflateSync(bytes);
            return bytes;
          },
        });
      });
    });
    req.on('error', reject);
    if (body !== undefined && options.chunked) {
      // A few chunks, so the server really sees a chunked body of unknown length.
      const step = Math.max(1, Math.ceil(body.length / 4));
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** The `name=value` pairs of `Set-Cookie` lines, as a `Cookie` header value. */
export function cookieHeader(setCookies: string[]): string {
  return setCookies.map((line) => line.split(';')[0]!).join('; ');
}
