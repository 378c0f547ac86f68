/**
 * node:http's `'clientError'` event on Rocket: when a request is refused before any app saw it,
 * a server with `'clientError'` listeners gets node:http's arguments — an error shaped like the one
 * node:http's parser would have raised, and a socket to answer on — and Rocket sends nothing of
 * its own. Without listeners Rocket answers with its own status and closes.
 */

import { Duplex } from 'node:stream';
import type { ClientErrorReply, HttpError, HttpErrorCode } from '@rocketserver/core';

/** node:http's code and message for each refusal, where node:http has one. */
const NODE_ERRORS: Partial<Record<HttpErrorCode, [code: string, message: string]>> = {
  ROCKET_ERR_TIMEOUT: ['ERR_HTTP_REQUEST_TIMEOUT', 'Request timeout'],
  ROCKET_ERR_HEADER_TOO_LARGE: ['HPE_HEADER_OVERFLOW', 'Parse Error: Header overflow'],
  ROCKET_ERR_TOO_MANY_HEADERS: ['HPE_HEADER_OVERFLOW', 'Parse Error: Header overflow'],
  ROCKET_ERR_REQUEST_LINE_TOO_LONG: ['HPE_HEADER_OVERFLOW', 'Parse Error: Header overflow'],
  ROCKET_ERR_BAD_METHOD: ['HPE_INVALID_METHOD', 'Parse Error: Invalid method encountered'],
  ROCKET_ERR_BAD_TARGET: ['HPE_INVALID_URL', 'Parse Error: Invalid URL'],
  ROCKET_ERR_BAD_VERSION: ['HPE_INVALID_VERSION', 'Parse Error: Invalid HTTP version'],
  ROCKET_ERR_VERSION_NOT_SUPPORTED: ['HPE_INVALID_VERSION', 'Parse Error: Invalid HTTP version'],
  ROCKET_ERR_BAD_HEADER: ['HPE_INVALID_HEADER_TOKEN', 'Parse Error: Invalid header value char'],
  ROCKET_ERR_OBS_FOLD: ['HPE_INVALID_HEADER_TOKEN', 'Parse Error: Invalid header value char'],
  ROCKET_ERR_BARE_LF: ['HPE_CR_EXPECTED', 'Parse Error: Missing expected CR after header value'],
  ROCKET_ERR_BARE_CR: ['HPE_LF_EXPECTED', 'Parse Error: Missing expected LF after header value'],
  ROCKET_ERR_BAD_CONTENT_LENGTH: ['HPE_INVALID_CONTENT_LENGTH', 'Parse Error: Invalid character in Content-Length'],
  ROCKET_ERR_TE_WITH_CONTENT_LENGTH: ['HPE_INVALID_TRANSFER_ENCODING', 'Parse Error: Transfer-Encoding can\'t be present with Content-Length'],
  ROCKET_ERR_BAD_TRANSFER_ENCODING: ['HPE_INVALID_TRANSFER_ENCODING', 'Parse Error: Request has invalid `Transfer-Encoding`'],
};

/** What a `'clientError'` listener receives as its error: node:http's shape, Rocket's facts. */
export interface ClientError extends Error {
  code: string;
  /** The status Rocket would have answered with. */
  status: number;
  /** Rocket's code for the refusal (`ROCKET_ERR_…`). */
  rocketCode: HttpErrorCode;
  bytesParsed: number;
  rawPacket: Buffer;
}

export function clientError(error: HttpError, received: Buffer): ClientError {
  const [code, message] = NODE_ERRORS[error.code] ?? [error.code, `Parse Error: ${error.message}`];
  return Object.assign(new Error(message), {
    code,
    status: error.status,
    rocketCode: error.code,
    bytesParsed: received.length,
    rawPacket: received,
  });
}

function ignore(): void {}

/**
 * The socket a `'clientError'` listener answers on: what it writes goes to the client as it is;
 * `end()` closes after the bytes are out, `destroy()` closes now.
 */
export class ClientErrorSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6' | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  declare readonly encrypted?: true;
  bytesWritten = 0;
  readonly #reply: ClientErrorReply;
  #ended = false;

  constructor(reply: ClientErrorReply) {
    super({ allowHalfOpen: false });
    this.#reply = reply;
    const info = reply.info;
    this.remoteAddress = info.remoteAddress;
    this.remotePort = info.remotePort;
    this.remoteFamily = info.remoteAddress === '' ? undefined : info.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = info.localAddress;
    this.localPort = info.localPort;
    if (info.tls !== null) Object.defineProperty(this, 'encrypted', { value: true, enumerable: true });
    // As node:http does before it emits 'clientError': `socket.destroy(err)` (Fastify's answer)
    // must not become an uncaught exception.
    this.on('error', ignore);
    // Nothing more will be read from a refused connection.
    this.push(null);
  }

  setTimeout(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.#reply.write(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#reply.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    // After end() the bytes are on their way and the connection closes by itself.
    if (!this.#ended) this.#reply.destroy();
    callback(error);
  }
}
