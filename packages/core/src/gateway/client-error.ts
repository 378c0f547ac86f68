/**
 * The `onClientError` hook: a request the server refuses before any app saw it (a malformed or
 * oversized head, a head that did not arrive in time) can be answered by the operator's code
 * instead of Rocket's own short error response — node:http's `'clientError'` event.
 */

import type { HttpError } from '../errors.js';
import type { ConnectionInfo } from './environ.js';

/** The connection of a refused request, for the hook to answer on. */
export interface ClientErrorReply {
  readonly info: ConnectionInfo;
  /** The bytes of the refused request received so far (at most the head limits). */
  readonly received: Buffer;
  /** Send bytes as they are: the hook writes a whole response, head included. */
  write(data: string | Uint8Array): void;
  /** Send the last bytes, if any, and close the connection once they are out. */
  end(data?: string | Uint8Array): void;
  /** Close the connection now. */
  destroy(): void;
}

/**
 * Return true to answer the request yourself: Rocket then sends nothing of its own. The hook must
 * end or destroy the connection; one left open is closed after `socketTimeout`.
 */
export type ClientErrorHook = (error: HttpError, reply: ClientErrorReply) => boolean;
