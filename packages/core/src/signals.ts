/**
 * Process signals, as Rocket handled them and as operators expect today:
 *
 *   SIGTERM           stop gracefully
 *   SIGINT            stop gracefully; a second SIGINT during the stop forces it
 *   SIGHUP, SIGUSR1   restart (Rocket used SIGUSR1; SIGHUP is the usual reload signal)
 *
 * Handlers are installed by `start()` and removed when the server has stopped.
 */

import type { Logger } from './options.js';

export interface SignalTarget {
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Close everything now, in-flight requests included. */
  forceStop(): void;
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
  const restart = (signal: NodeJS.Signals) => {
    logger.info(`Received ${signal}: restarting`);
    target.restart().catch((error: unknown) => logger.error(`restart after ${signal} failed: ${String(error)}`));
  };
  const handlers: [NodeJS.Signals, (signal: NodeJS.Signals) => void][] = [
    ['SIGTERM', stop],
    ['SIGINT', stop],
    ['SIGHUP', restart],
    ['SIGUSR1', restart],
  ];
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
