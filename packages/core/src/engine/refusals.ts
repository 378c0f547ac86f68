/**
 * What the server answers on its own, before or instead of an app: the refusals of requests it
 * will not serve, the 500 of an app that failed before sending anything, and the hand-off of a
 * refusal to the `onClientError` hook. The connection decides when to refuse; this module decides
 * what the refusal says.
 */

import type { Socket } from 'node:net';
import { describeError, HttpError, RocketError } from '../errors.js';
import type { ClientErrorHook, ClientErrorReply } from '../gateway/client-error.js';
import type { ConnectionInfo } from '../gateway/environ.js';
import { httpDate } from '../gateway/response.js';
import { trimOWS } from '../http/framing.js';
import type { RequestHead } from '../http/request-head.js';
import { errorResponse } from '../http/response-head.js';
import type { Logger } from '../observability/logging.js';
import type { ResolvedOptions } from '../options.js';

/** `Retry-After` on a 503, in seconds. */
const RETRY_AFTER = 5;

/** The header lines a refusal with `status` carries besides the usual ones. */
export function refusalHeaders(status: number): string {
  return status === 503 ? `Retry-After: ${RETRY_AFTER}\r\n` : '';
}

/** Most bytes of a refused request's first line kept for the access log. */
const FIRST_LINE_LIMIT = 512;

/** The first line of what was received of a refused request (`buf[start..end)`), for the access log. */
export function firstLine(buf: Buffer | null, start: number, end: number): string {
  if (buf === null || start === end) return '-';
  const text = buf.toString('latin1', start, Math.min(end, start + FIRST_LINE_LIMIT)).replace(/^(?:\r\n)+/, '');
  const eol = text.search(/[\r\n]/);
  return eol === -1 ? text : text.slice(0, eol);
}

/**
 * The bytes of a server-made response, and how many of them are body (for the access log).
 * `extraHeaders`: whole header lines, each ending in CRLF.
 */
export function refusalBytes(
  options: ResolvedOptions,
  status: number,
  detail: string | undefined,
  extraHeaders: string,
  isHead: boolean,
): { bytes: Buffer; bodyLength: number } {
  const response = errorResponse(status, detail, httpDate(), options.serverSoftware || null, extraHeaders, isHead, options.protocol);
  const bytes = Buffer.from(response, 'utf8');
  return { bytes, bodyLength: bytes.length - (response.indexOf('\r\n\r\n') + 4) };
}

/**
 * RFC 9110 §10.1.1: `100-continue` is the only expectation; any other is answered 417. An
 * HTTP/1.0 request's expectation is ignored ("MUST ignore").
 * @returns true when the client waits for 100 Continue.
 */
export function checkExpect(head: RequestHead): boolean {
  if (head.expect === null || head.version === 10) return false;
  if (trimOWS(head.expect).toLowerCase() === '100-continue') return true;
  throw new HttpError(417, 'ROCKET_ERR_EXPECTATION_FAILED', 'only the 100-continue expectation is supported');
}

/**
 * What a 500 may tell the client about why: only what the server itself found wrong with the
 * response (never an app's own error message, which may hold secrets).
 */
export function publicDetail(error: unknown): string | undefined {
  return error instanceof RocketError && error.code === 'ROCKET_ERR_RESPONSE_LENGTH' ? error.message : undefined;
}

/**
 * Offer a refusal to the `onClientError` hook. Null when the hook declined (or threw): the server
 * answers as usual. Otherwise the hook took the connection; `isOpen()` says whether it still has
 * to end it. The reply's methods are closures, so a hook may pass them around unbound.
 */
export function offerToHook(
  hook: ClientErrorHook,
  error: HttpError,
  socket: Socket,
  info: ConnectionInfo,
  received: Buffer,
  logger: Logger,
): { isOpen(): boolean } | null {
  let open = true;
  const reply: ClientErrorReply = {
    info,
    received,
    write: (data) => {
      if (open && !socket.destroyed) socket.write(data);
    },
    end: (data) => {
      if (!open) return;
      open = false;
      if (socket.destroyed) return;
      if (data === undefined) socket.end();
      else socket.end(data);
    },
    destroy: () => {
      open = false;
      // What the hook wrote is still corked: hand it to the system first, as a write followed
      // by destroy() on a plain socket would have.
      while (socket.writableCorked > 0) socket.uncork();
      socket.destroy();
    },
  };
  let handled: boolean;
  try {
    handled = hook(error, reply) === true;
  } catch (hookError) {
    logger.error(`the onClientError hook threw: ${describeError(hookError)}`);
    handled = false;
  }
  if (!handled) {
    open = false;
    return null;
  }
  return { isOpen: () => open };
}
