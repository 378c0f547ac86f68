/**
 * @rocketserver/adapter-node — Node request listeners on Rocket.
 *
 * @example
 * import { createServer } from '@rocketserver/adapter-node';
 * createServer((req, res) => res.end('hello')).listen(3000);
 */

export { createServer, RocketServer, type CreateServerOptions } from './server.js';
export { toGateway, bridgeApp, type RequestListener, type Dispatcher } from './bridge.js';
export { BridgeSocket } from './bridge-socket.js';
export { ClientErrorSocket, type ClientError } from './client-error.js';
export { ResponseParser, ResponseParseError, type ResponseSink } from './response-parser.js';
