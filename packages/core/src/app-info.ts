/**
 * What Rocket serves, as in Rocket: a method (`'wsgi'` or `'fs'`) and the `appInfo` it needs,
 * checked and turned into the gateway app the server runs.
 */

import { RocketError } from './errors.js';
import { staticFiles } from './apps/static-files.js';
import type { GatewayApp } from './gateway/run-app.js';

/** What a method needs to run, as in Rocket: `{ wsgi_app }` for the `wsgi` method. */
export interface AppInfo {
  /** Method `'wsgi'`: the gateway app. */
  wsgi_app?: GatewayApp;
  /** Method `'fs'`: the folder to serve. */
  document_root?: string;
  /** Method `'fs'`: list a folder without an index.html (else 404). Default false. */
  display_index?: boolean;
  /** Method `'wsgi'`: put `wsgiorg.executor` and `wsgiorg.futures` in every environ (Rocket's futures). */
  futures?: boolean;
  [key: string]: unknown;
}

/** The methods Rocket serves with (Rocket's `method` argument): a gateway app, or the files of a folder. */
export type AppMethod = 'wsgi' | 'fs';

/** The same as {@link AppMethod}: its first name, which read like an HTTP method. */
export type Method = AppMethod;

/**
 * Rocket's `method` argument, case-insensitive.
 * @throws {RocketError} ROCKET_ERR_INVALID_OPTION for any other method.
 */
export function appMethod(method: unknown): AppMethod {
  const name = typeof method === 'string' ? method.toLowerCase() : '';
  if (name !== 'wsgi' && name !== 'fs') {
    throw new RocketError('ROCKET_ERR_INVALID_OPTION', `unknown method ${JSON.stringify(method)}; Rocket serves with "wsgi" or "fs"`);
  }
  return name;
}

/**
 * The gateway app of `method`: `appInfo.wsgi_app`, or the static files of `appInfo.document_root`.
 * @throws {RocketError} ROCKET_ERR_INVALID_APP naming what is missing.
 * @example
 * appFor('fs', { document_root: './public' });
 */
export function appFor(method: AppMethod, appInfo: AppInfo): GatewayApp {
  if (typeof appInfo !== 'object' || appInfo === null) {
    throw new RocketError('ROCKET_ERR_INVALID_APP', 'appInfo must be an object such as { wsgi_app: app }');
  }
  if (method === 'fs') {
    if (typeof appInfo.document_root !== 'string' || appInfo.document_root === '') {
      throw new RocketError('ROCKET_ERR_INVALID_APP', 'the "fs" method needs appInfo.document_root, the folder to serve');
    }
    return staticFiles({ document_root: appInfo.document_root, display_index: appInfo.display_index === true });
  }
  if (typeof appInfo.wsgi_app !== 'function') {
    throw new RocketError('ROCKET_ERR_INVALID_APP', `the wsgi_app specified (${typeof appInfo.wsgi_app}) is not a valid gateway application`);
  }
  return appInfo.wsgi_app;
}
