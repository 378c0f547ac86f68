/**
 * A raw HTTP/1.1 client for tests: writes exact bytes, reads responses back as the bytes were
 * framed (Content-Length, chunked, or until the server closes), and reports whether the server
 * closed the connection. Every wait is bounded, so a broken server fails a test instead of
 * hanging it.
 */

import net from 'node:net';
import tls from 'node:tls';

export interface RawResponse {
  /** `HTTP/1.1 200 OK` */
  statusLine: string;
  version: string;
  status: number;
  reason: string;
  /** Header fields in order, as sent. */
  headers: [string, string][];
  /** The response head, exactly as received (latin1), including the final CRLFCRLF. */
  head: string;
  body: Buffer;
  /** How the body was framed. */
  framing: 'none' | 'length' | 'chunked' | 'close';
  /** Chunked trailer fields, if any. */
  trailers: [string, string][];
  /** First value of a header, case-insensitive. */
  header(name: string): string | undefined;
  /** All values of a header, case-insensitive. */
  headerAll(name: string): string[];
}

export interface ReadOptions {
  /** The request was HEAD: no body follows the head. */
  head?: boolean;
  /** Milliseconds before the read fails. Default 5000. */
  timeout?: number;
}

const DEFAULT_TIMEOUT = 5000;

export class RawClient {
  readonly socket: net.Socket;
  /** Received bytes not read yet, as chunks; joined only when a read needs them. */
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #closed = false;
  #error: Error | null = null;
  #waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', (error) => {
      this.#error = error;
      this.#wake();
    });
  }

  /** Connect over TCP. */
  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Connect over TLS. */
  static connectTls(port: number, options: tls.ConnectionOptions & { host?: string } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ...options });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** True once the server ended its side. */
  get ended(): boolean {
    return this.#ended;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not read yet. */
  get pending(): Buffer {
    return this.#buffer;
  }

  get #buffer(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  set #buffer(value: Buffer) {
    this.#chunks = value.length > 0 ? [value] : [];
    this.#length = value.length;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Read the next complete response. */
  async readResponse(options: ReadOptions = {}): Promise<RawResponse> {
    const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
    let needed = 0;
    for (;;) {
      if (this.#length >= needed || this.#ended) {
        const parsed = parseResponse(this.#buffer, options.head === true, this.#ended);
        if (parsed !== null && 'response' in parsed) {
          this.#buffer = this.#buffer.subarray(parsed.size);
          return parsed.response;
        }
        needed = parsed?.needed ?? 0;
        if (this.#ended) {
          throw new Error(`connection ended before a complete response; received ${JSON.stringify(this.#buffer.toString('latin1'))}`);
        }
      }
      await this.#wait(deadline, 'a response');
    }
  }

  /** Read everything until the server ends the connection. */
  async readToEnd(timeout = DEFAULT_TIMEOUT): Promise<Buffer> {
    const deadline = Date.now() + timeout;
    while (!this.#ended) await this.#wait(deadline, 'the end of the connection');
    const all = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return all;
  }

  /** Wait until the server ends the connection (EOF or reset). */
  async waitEnd(timeout = DEFAULT_TIMEOUT): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.#ended) await this.#wait(deadline, 'the server to close');
  }

  /** Wait until at least `n` bytes are buffered. */
  async waitBytes(n: number, timeout = DEFAULT_TIMEOUT): Promise<void> {
    const deadline = Date.now() + timeout;
    while (this.#length < n) {
      if (this.#ended) throw new Error(`connection ended after ${this.#length} of ${n} bytes`);
      await this.#wait(deadline, `${n} bytes`);
    }
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #wait(deadline: number, what: string): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.#buffer.toString('latin1'))}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.#buffer.toString('latin1'))}`));
      }, left);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(wake);
    });
  }
}

/**
 * Parse one response from the start of `buf`.
 * @returns the response and its size in bytes; or, when it is not complete yet, null or how many
 * bytes are needed at least.
 */
export function parseResponse(
  buf: Buffer,
  isHead: boolean,
  ended: boolean,
): { response: RawResponse; size: number } | { needed: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const head = buf.toString('latin1', 0, headEnd + 4);
  const lines = head.slice(0, -4).split('\r\n');
  const statusLine = lines[0]!;
  const match = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) throw new Error(`malformed status line ${JSON.stringify(statusLine)}`);
  const headers: [string, string][] = lines.slice(1).map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const status = Number(match[2]);
  const find = (name: string) => headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  let offset = headEnd + 4;
  let body = Buffer.alloc(0);
  let framing: RawResponse['framing'];
  const trailers: [string, string][] = [];
  const te = find('transfer-encoding')[0];
  const cl = find('content-length')[0];
  if (isHead || status < 200 || status === 204 || status === 304) {
    framing = 'none';
  } else if (te !== undefined && /chunked\s*$/i.test(te)) {
    framing = 'chunked';
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', offset);
      if (lineEnd === -1) return null;
      const size = parseInt(buf.toString('latin1', offset, lineEnd).split(';')[0]!, 16);
      if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(buf.toString('latin1', offset, lineEnd))}`);
      offset = lineEnd + 2;
      if (size === 0) {
        for (;;) {
          const end = buf.indexOf('\r\n', offset);
          if (end === -1) return null;
          if (end === offset) {
            offset += 2;
            break;
          }
          const line = buf.toString('latin1', offset, end);
          const colon = line.indexOf(':');
          trailers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
          offset = end + 2;
        }
        break;
      }
      if (buf.length < offset + size + 2) return { needed: offset + size + 2 };
      parts.push(buf.subarray(offset, offset + size));
      if (buf.toString('latin1', offset + size, offset + size + 2) !== '\r\n') throw new Error('chunk data not followed by CRLF');
      offset += size + 2;
    }
    body = Buffer.concat(parts);
  } else if (cl !== undefined) {
    framing = 'length';
    const length = Number(cl);
    if (buf.length < offset + length) return { needed: offset + length };
    body = buf.subarray(offset, offset + length);
    offset += length;
  } else {
    framing = 'close';
    if (!ended) return null;
    body = buf.subarray(offset);
    offset = buf.length;
  }
  return {
    size: offset,
    response: {
      statusLine,
      version: match[1]!,
      status,
      reason: match[3]!,
      headers,
      head,
      body: Buffer.from(body),
      framing,
      trailers,
      header: (name) => find(name)[0],
      headerAll: find,
    },
  };
}
