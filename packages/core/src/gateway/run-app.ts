/**
 * The gateway: calls `app(environ, start_response)` and sends what it returns.
 *
 * An app returns its body as a list, any `Iterable` or `AsyncIterable` of chunks (`Uint8Array` or
 * UTF-8 text), or a Promise of one. A lone string or Uint8Array is taken as a one-chunk body.
 *
 * - A list is a body whose length is known: it goes out with `Content-Length`, in one write.
 * - A synchronous iterator is read one chunk ahead, so a body of one chunk also gets
 *   `Content-Length`; longer ones stream (chunked on HTTP/1.1).
 * - An async iterator streams from its first chunk: nothing waits for a second one.
 * - When the socket is full, iteration pauses until it drains.
 * - The iterator's `return()` (WSGI's `close()`) is always called, and a `close()` method on the
 *   body too, whether the body was sent, failed or the client went away — before the response
 *   ends, so a `write()` inside `close()` is still part of the body.
 */

import type { Environ } from './environ.js';
import type { BodyChunk, Response, StartResponse } from './response.js';

/** A body an app may return. */
export type GatewayBody = Iterable<BodyChunk> | AsyncIterable<BodyChunk> | BodyChunk;

/**
 * A gateway application: PEP 3333's callable, in TypeScript.
 *
 * @example
 * const app: GatewayApp = (environ, startResponse) => {
 *   startResponse('200 OK', [['Content-Type', 'text/plain']]);
 *   return [`Hello from ${environ.PATH_INFO}`];
 * };
 */
export type GatewayApp = ((environ: Environ, startResponse: StartResponse) => GatewayBody | Promise<GatewayBody>) & {
  /**
   * True for an app that reads the header fields from `rocket.raw_headers` only: the server
   * then leaves the `HTTP_*` keys and `CONTENT_TYPE` out of its environ (they cost time for every
   * field of every request). Read from the app given to the server, not from apps it calls.
   * Trusted forwarded headers still apply (`REMOTE_ADDR`, the scheme, and `HTTP_HOST` from a
   * forwarded host). The Node bridge (`createServer`, `toGateway`) is such an app.
   */
  rawHeadersOnly?: boolean;
};

/** The request an app runs for. */
export interface GatewayExchange {
  readonly environ: Environ;
  readonly response: Response;
  /** The body was sent and closed. */
  appFinished(): void;
  /** The app threw, rejected, or returned something that is not a body. */
  appFailed(error: unknown): void;
  /** An error while closing the body: logged, nothing else. */
  closeFailed(error: unknown): void;
  /** The app returned `rocket.response`: the exchange ends with the response, written by calls. */
  awaitResponse(): void;
}

/** Run `app` for `exchange`. Never throws: every outcome reaches the exchange. */
export function runGateway(app: GatewayApp, exchange: GatewayExchange): void {
  let body: unknown;
  try {
    body = app(exchange.environ, exchange.response.start);
  } catch (error) {
    exchange.appFailed(error);
    return;
  }
  if (isThenable(body)) {
    body.then(
      (resolved) => sendBody(resolved, exchange),
      (error: unknown) => exchange.appFailed(error),
    );
  } else {
    sendBody(body, exchange);
  }
}

function sendBody(body: unknown, exchange: GatewayExchange): void {
  if (body === exchange.response) {
    exchange.awaitResponse();
    return;
  }
  if (Array.isArray(body)) {
    try {
      exchange.response.sendAll(body as BodyChunk[]);
    } catch (error) {
      exchange.appFailed(error);
      return;
    }
    exchange.appFinished();
    return;
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    sendBody([body], exchange);
    return;
  }
  let iterator: AnyIterator;
  let sync: boolean;
  try {
    const asyncIterator = isObject(body) ? (body as Partial<AsyncIterable<BodyChunk>>)[Symbol.asyncIterator] : undefined;
    const syncIterator = isObject(body) ? (body as Partial<Iterable<BodyChunk>>)[Symbol.iterator] : undefined;
    if (typeof asyncIterator === 'function') {
      iterator = asyncIterator.call(body);
      sync = false;
    } else if (typeof syncIterator === 'function') {
      iterator = syncIterator.call(body);
      sync = true;
    } else {
      throw new TypeError(`the app returned ${describe(body)}; it must return an iterable body (for example a list of chunks)`);
    }
    if (!isObject(iterator)) throw new TypeError('the body\'s iterator method did not return an iterator');
  } catch (error) {
    exchange.appFailed(error);
    return;
  }
  void pump(iterator, body as object, sync, exchange);
}

type AnyIterator = Iterator<BodyChunk> | AsyncIterator<BodyChunk>;

/**
 * Send the chunks of an iterator. Written as one async function that only awaits when it must:
 * a synchronous iterator whose chunks fit in the socket runs to the end without yielding, its
 * chunks corked into as few writes as the socket takes.
 */
async function pump(iterator: AnyIterator, body: object, sync: boolean, exchange: GatewayExchange): Promise<void> {
  const response = exchange.response;
  const close = wsgiClose(iterator, body);
  let failure: unknown = null;
  let failed = false;
  try {
    // `await` only real promises: awaiting a plain value would still cost a turn of the queue.
    let next = iterator.next();
    let result = (isThenable(next) ? await next : next) as IteratorResult<BodyChunk>;
    while (!result.done && isEmpty(result.value)) {
      next = iterator.next();
      result = (isThenable(next) ? await next : next) as IteratorResult<BodyChunk>;
    }
    if (result.done) {
      // Nothing to send: the response ends below, after close(), which may still write.
    } else if (sync) {
      await pumpSync(iterator as Iterator<BodyChunk>, result.value, response, close === null);
    } else {
      if (!response.write(result.value) && !response.aborted) await response.drained();
      while (!response.aborted) {
        result = await iterator.next();
        if (result.done) break;
        if (!response.write(result.value) && !response.aborted) await response.drained();
      }
    }
  } catch (error) {
    failed = true;
    failure = error;
  }
  await closeBody(iterator, close, body, exchange);
  if (!failed && !response.ended && !response.aborted) {
    try {
      response.end();
    } catch (error) {
      failed = true;
      failure = error;
    }
  }
  if (failed) exchange.appFailed(failure);
  else exchange.appFinished();
}

/**
 * The rest of a synchronous body, from its first non-empty chunk. Unless the body has a close()
 * that may still write, one chunk is read ahead: if the first was also the last, the body has a
 * known length and the response ends with it. Chunks are corked together until the socket has
 * enough; then the batch goes out and the loop waits for the client.
 */
async function pumpSync(iterator: Iterator<BodyChunk>, first: BodyChunk, response: Response, mayEnd: boolean): Promise<void> {
  let result = iterator.next();
  while (!result.done && isEmpty(result.value)) result = iterator.next();
  if (result.done && mayEnd) {
    response.sendAll([first]);
    return;
  }
  response.cork();
  let corked = true;
  try {
    let room = response.write(first);
    while (!result.done && !response.aborted) {
      if (!room) {
        response.uncork();
        corked = false;
        await response.drained();
        response.cork();
        corked = true;
      }
      room = response.write(result.value);
      result = iterator.next();
    }
  } finally {
    if (corked) response.uncork();
  }
}

/** WSGI's close() of a body: a method other than the iterator's own return(). */
function wsgiClose(iterator: AnyIterator, body: object): (() => unknown) | null {
  const close = (body as { close?: unknown }).close;
  return typeof close === 'function' && close !== iterator.return ? (close as () => unknown) : null;
}

/**
 * Close the body: the iterator's return(), then WSGI's close() — before the response ends, so
 * what close() writes is part of the body (as in cheroot).
 */
async function closeBody(iterator: AnyIterator, close: (() => unknown) | null, body: object, exchange: GatewayExchange): Promise<void> {
  try {
    const returned = iterator.return?.();
    if (isThenable(returned)) await returned;
    if (close !== null) {
      const closed: unknown = close.call(body);
      if (isThenable(closed)) await closed;
    }
  } catch (error) {
    exchange.closeFailed(error);
  }
}

function isEmpty(chunk: BodyChunk): boolean {
  return (typeof chunk === 'string' || chunk instanceof Uint8Array) && chunk.length === 0;
}

function isObject(value: unknown): value is object {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

function isThenable(value: unknown): value is PromiseLike<never> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  return typeof value === 'object' ? `a ${(value as object).constructor?.name ?? 'object'}` : `a ${typeof value}`;
}
