/** The package version, read once from package.json: the Server header and the demo page show it. */

import { createRequire } from 'node:module';

/** Read from package.json so it follows releases. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
