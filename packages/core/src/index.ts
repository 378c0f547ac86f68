/**
 * @rocketserver/core — an HTTP/1.1 application server with a WSGI-style gateway.
 *
 * @example
 * import { Rocket } from '@rocketserver/core';
 * const server = new Rocket(['127.0.0.1', 8000], 'wsgi', { wsgi_app: app }, { minThreads: 10, maxThreads: 0 });
 * await server.start();
 */

export { Rocket, type AppInfo, type AppMethod, type Method, type RocketStats } from './rocket.js';
export { OPTIONS, defaultLogger, resolveOptions, type RocketOptions, type ResolvedOptions, type DroppedConnection } from './options.js';
export { VERSION } from './version.js';
export { HttpError, RocketError, type HttpErrorCode, type RocketErrorCode } from './errors.js';
export type { Environ, WsgiInput, WsgiErrors, ConnectionInfo, TlsInfo } from './gateway/environ.js';
export type { ClientErrorHook, ClientErrorReply } from './gateway/client-error.js';
export type { GatewayApp, GatewayBody } from './gateway/run-app.js';
export type { StartResponse, WriteCallable, ResponseHeaders, BodyChunk, ResponseChannel, PreparedHead } from './gateway/response.js';
export type { Interface, PlainInterface, TlsInterface, MutualTlsInterface } from './engine/bind.js';
export type { BoundAddress } from './engine/listener.js';
export { FileWrapper, fileWrapper, type FileLike } from './gateway/file-wrapper.js';
export { demoApp } from './apps/demo.js';
export { mount } from './apps/mount.js';
export { staticFiles, FileBody, type StaticFilesOptions } from './apps/static-files.js';
export { compileAccessFormat, type AccessRecord, type AccessLogFormat } from './observability/access-log.js';
export { LogChannel, LogChannels, type Logger, type LogLevel } from './observability/logging.js';
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
} from './apps/futures.js';
