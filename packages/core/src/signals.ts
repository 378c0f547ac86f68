/**
 * Process signals, as Rocket handled them and as operators expect today:
 *
 *   SIGTERM           stop gracefully
 *   SIGINT            stop gracefully; a second SIGINT during the stop forces it
 *   SIGHUP, SIGUSR1   restart (Rocket used SIGUSR1; SIGHUP is the usual reload signal); with
 *                     workers, a rolling restart of every worker
 *   SIGTTIN, SIGTTOU  with workers: one worker more, one fewer (as gunicorn)
 *
 * In a worker process, restarts and worker counts are the primary's business: those signals are
 * ignored there (a signal sent to the whole process group must not end a worker).
 *
 * Handlers are installed by `start()` and removed when the server has stopped.
 */

import type { Logger } from './observability/logging.js';

export interface SignalTarget {
  stop(): Promise<void>;
  /** Null: SIGHUP and SIGUSR1 are ignored. */
  restart: (() => Promise<void>) | null;
  /** Close everything now, in-flight requests included. */
  forceStop(): void;
  /** SIGTTIN and SIGTTOU: absent, the signals keep their default action; null, they are ignored. */
  addWorker?: (() => Promise<void>) | null;
  removeWorker?: (() => Promise<void>) | null;
}

/**
 * Install the handlers for `target`.
 * @returns a function that removes them.
 */
export function installSignalHandlers(target: SignalTarget, logger: Logger): () => void {
  let interrupted = false;
  const stop = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && interrupted) {
      logger.info('Received a second SIGINT: stopping now');
      target.forceStop();
      return;
    }
    if (signal === 'SIGINT') interrupted = true;
    logger.info(`Received ${signal}`);
    target.stop().catch((error: unknown) => logger.error(`stop after ${signal} failed: ${String(error)}`));
  };
  const run = (action: (() => Promise<void>) | null, what: string) => (signal: NodeJS.Signals) => {
    if (action === null) {
      logger.debug(`Received ${signal}: ignored in a worker`);
      return;
    }
    logger.info(`Received ${signal}: ${what}`);
    action().catch((error: unknown) => logger.error(`${what} after ${signal} failed: ${String(error)}`));
  };
  const restart = run(target.restart, 'restarting');
  const handlers: [NodeJS.Signals, (signal: NodeJS.Signals) => void][] = [
    ['SIGTERM', stop],
    ['SIGINT', stop],
    ['SIGHUP', restart],
    ['SIGUSR1', restart],
  ];
  if (target.addWorker !== undefined) handlers.push(['SIGTTIN', run(target.addWorker, 'adding a worker')]);
  if (target.removeWorker !== undefined) handlers.push(['SIGTTOU', run(target.removeWorker, 'removing a worker')]);
  const installed: typeof handlers = [];
  for (const [signal, handler] of handlers) {
    try {
      process.on(signal, handler);
      installed.push([signal, handler]);
    } catch {
      logger.debug(`this platform does not support ${signal}`);
    }
  }
  return () => {
    for (const [signal, handler] of installed) process.off(signal, handler);
  };
}
