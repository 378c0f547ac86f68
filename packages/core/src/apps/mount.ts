/**
 * Several gateway apps on one server, each under a path prefix, with WSGI's conventions (and
 * CherryPy's `WSGIPathInfoDispatcher` semantics, which `@rocketserver/cherrypy-compat` reuses).
 */

import type { Environ } from '../gateway/environ.js';
import type { GatewayApp } from '../gateway/run-app.js';
import type { StartResponse } from '../gateway/response.js';

/**
 * Dispatch to the app mounted at the longest prefix of `PATH_INFO`. A prefix matches the path
 * itself or the path followed by `/` (so `/blog` does not match `/blogger`); `'/'` mounts at the
 * root. The app sees a copy of the environ with the prefix moved from `PATH_INFO` to the end of
 * `SCRIPT_NAME`. Nothing matches: 404 with an empty body.
 *
 * @example
 * const app = mount({ '/': site, '/api': toGateway(koaApp) });
 * new Rocket(['127.0.0.1', 8000], 'wsgi', { wsgi_app: app });
 */
export function mount(apps: Record<string, GatewayApp> | Iterable<readonly [string, GatewayApp]>): GatewayApp {
  const entries = (isIterable(apps) ? [...apps] : Object.entries(apps)).map(([prefix, app]) => {
    if (typeof prefix !== 'string') throw new TypeError(`a mount point must be a string, not ${typeof prefix}`);
    if (typeof app !== 'function') throw new TypeError(`the app mounted at ${JSON.stringify(prefix)} is not a gateway app`);
    return [prefix.replace(/\/+$/, ''), app] as const;
  });
  // Longest first; a stable sort keeps the given order among equal lengths.
  entries.sort((a, b) => b[0].length - a[0].length);
  return (environ: Environ, startResponse: StartResponse) => {
    const path = environ.PATH_INFO || '/';
    for (const [prefix, app] of entries) {
      if (path === prefix || path.startsWith(`${prefix}/`)) {
        const mounted: Environ = { ...environ, SCRIPT_NAME: (environ.SCRIPT_NAME ?? '') + prefix, PATH_INFO: path.slice(prefix.length) };
        return app(mounted, startResponse);
      }
    }
    startResponse('404 Not Found', [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '0'],
    ]);
    return [''];
  };
}

function isIterable(value: unknown): value is Iterable<readonly [string, GatewayApp]> {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}
