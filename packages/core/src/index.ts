/**
 * @rocketserver/core — an HTTP/1.1 application server with a WSGI-style gateway.
 *
 * @example
 * import { Rocket } from '@rocketserver/core';
 * const server = new Rocket(['127.0.0.1', 8000], 'wsgi', { wsgi_app: app }, { minThreads: 10, maxThreads: 0 });
 * await server.start();
 */

export { Rocket, type AppInfo, type Method, type RocketStats } from './rocket.js';
export { OPTIONS, VERSION, defaultLogger, resolveOptions, type Logger, type RocketOptions, type ResolvedOptions } from './options.js';
export { HttpError, RocketError, type HttpErrorCode, type RocketErrorCode } from './errors.js';
export type { Environ, WsgiInput, WsgiErrors, ConnectionInfo, TlsInfo } from './environ.js';
export type { ClientErrorHook, ClientErrorReply } from './client-error.js';
export type { GatewayApp, GatewayBody } from './gateway.js';
export type { StartResponse, WriteCallable, ResponseHeaders, BodyChunk, ResponseChannel, PreparedHead } from './response.js';
export type { Interface, PlainInterface, TlsInterface, MutualTlsInterface } from './interfaces.js';
export type { BoundAddress } from './listener.js';
export { FileWrapper, fileWrapper, type FileLike } from './file-wrapper.js';
export { demoApp } from './demo.js';
export { mount } from './mount.js';
export { staticFiles, FileBody, type StaticFilesOptions } from './static-files.js';
export { compileAccessFormat, type AccessRecord, type AccessLogFormat } from './access-log.js';
export { LogChannel, LogChannels, type LogLevel } from './logging.js';
export {
  Executor,
  WSGIExecutor,
  Future,
  WSGIFuture,
  FuturesMiddleware,
  provideFutures,
  CancelledError,
  TimeoutError,
  WorkerExitError,
  type ExecutorOptions,
  type ExecutorStats,
  type FuturesEnviron,
  type WorkerTask,
} from './futures.js';
