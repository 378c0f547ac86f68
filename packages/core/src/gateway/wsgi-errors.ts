/**
 * The default `wsgi.errors`: what an application writes there goes to the process's stderr.
 */

import type { WsgiErrors } from './environ.js';

/** `wsgi.errors`: text to the process's stderr. */
export const stderrStream: WsgiErrors = {
  write: (text) => {
    process.stderr.write(text);
  },
  writelines: (lines) => {
    for (const line of lines) process.stderr.write(line);
  },
  flush: () => {},
};
