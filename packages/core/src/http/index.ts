/**
 * The pure HTTP/1.1 protocol pieces of Rocket's engine: bytes in, values or errors out, no
 * sockets. Exported for bridges and tools that read HTTP/1.1 themselves.
 *
 * @example
 * import { ChunkedDecoder } from '@rocketserver/core/http';
 */

export { ChunkedDecoder, type ChunkedLimits, type ChunkSink } from './chunked.js';
export { parseRequestHead, HeadScan, RequestHead, parseFieldLines, type HeadLimits, type TargetForm } from './request-head.js';
export { requestBodyFraming, connectionOptions, type BodyFraming } from './framing.js';
export { parseContentLength } from './content-length.js';
export { parseStatus, errorResponse, isBodilessStatus, type Status } from './response-head.js';
export { isToken, isFieldValue } from './chars.js';
export { STATUS_REASONS, statusText } from './status.js';
