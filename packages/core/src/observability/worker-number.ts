/**
 * Which worker process this is. Log lines, access-log lines and metrics carry the number, so it
 * is read here, below everything that labels its output with it; `workers.ts` sets it when it forks.
 */

import cluster from 'node:cluster';

/** The environment variable that tells a process it is a Rocket worker, and its number. */
export const WORKER_ENV = 'ROCKET_WORKER';

/** The worker number of this process (1 …), or 0 when it is not a Rocket worker. */
export function workerNumber(): number {
  if (!cluster.isWorker) return 0;
  const n = Number(process.env[WORKER_ENV]);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}
