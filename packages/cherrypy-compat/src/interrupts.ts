/**
 * Python's `KeyboardInterrupt` and `SystemExit`, as errors: what `start()` rejects with when the
 * server was interrupted, so ported `try … except KeyboardInterrupt` code has something to catch.
 */

/** Ctrl-C (SIGINT) while the server runs, or an app that throws one to stop the server. */
export class KeyboardInterrupt extends Error {
  constructor(message = 'Keyboard Interrupt') {
    super(message);
    this.name = 'KeyboardInterrupt';
  }
}

/** A request to exit: thrown by an app, or set as `server.interrupt`, it stops the server. */
export class SystemExit extends Error {
  readonly code: number | string | undefined;

  constructor(code?: number | string) {
    super(code === undefined ? 'SystemExit' : `SystemExit(${String(code)})`);
    this.name = 'SystemExit';
    this.code = code;
  }
}

/** What `server.interrupt = …` accepts: an error, or an error class (AspenWeb sets the class). */
export type Interrupt = Error | (new () => Error);

/** True for the errors that stop the server instead of failing one request. */
export function isInterrupt(error: unknown): error is KeyboardInterrupt | SystemExit {
  return error instanceof KeyboardInterrupt || error instanceof SystemExit;
}
