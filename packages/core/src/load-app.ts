/**
 * Loading the app the `rocket` command serves: `rocket ./app.js` or `rocket ./app.js:name`, and
 * telling what kind of app it is — a gateway app, an Express app, a Koa app, a Fastify instance,
 * or a plain Node request listener.
 */

import { spawnSync } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RocketError } from './errors.js';
import type { GatewayApp } from './gateway/run-app.js';

/** A Node request listener, as the adapters take it. */
type Listener = (req: unknown, res: unknown) => void;

/** What the command can serve. */
export type LoadedApp =
  | { kind: 'gateway'; app: GatewayApp; description: string }
  | {
      kind: 'listener';
      listener: Listener;
      /** Where upgrade requests go (Fastify's own server, for @fastify/websocket). */
      upgrades: { listenerCount(event: string): number; emit(event: string, ...args: unknown[]): boolean } | null;
      description: string;
    };

/** The kinds `--type` can force. */
export const APP_TYPES = ['gateway', 'listener', 'express', 'koa', 'fastify'] as const;
export type AppType = (typeof APP_TYPES)[number];

/**
 * Import `spec` (`path/to/module.js` or `path/to/module.js:exportName`) relative to `cwd` and
 * tell its kind. Without a name: the default export, else an export named `app`.
 * @throws {RocketError} ROCKET_ERR_INVALID_APP naming the module and what is wrong with it.
 */
export async function loadApp(spec: string, cwd: string, type?: AppType): Promise<LoadedApp> {
  const colon = spec.lastIndexOf(':');
  // A colon after the last path separator names an export (`./app.js:api`); `C:\…` does not.
  const named = colon > spec.lastIndexOf('/') && colon > spec.lastIndexOf('\\') && colon > 1;
  const file = named ? spec.slice(0, colon) : spec;
  const exportName = named ? spec.slice(colon + 1) : null;
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const why = error instanceof SyntaxError ? syntaxError(error, path) : (error as Error).message;
    throw new RocketError('ROCKET_ERR_INVALID_APP', `cannot load ${path}: ${why}`, { cause: error });
  }
  const value = exportName !== null ? module[exportName] : (module.default ?? module.app);
  const where = exportName !== null ? `${file}:${exportName}` : file;
  if (value === undefined) {
    throw new RocketError(
      'ROCKET_ERR_INVALID_APP',
      exportName !== null ? `${file} has no export named "${exportName}"` : `${file} has no default export and no export named "app"`,
    );
  }
  return detect(value, where, type);
}

/**
 * A syntax error with the file and line it is at. An ES module's SyntaxError does not carry them
 * (Node prints them only for an uncaught one), so `node --check` is asked: it parses the file
 * without running it.
 */
function syntaxError(error: SyntaxError, path: string): string {
  // CommonJS errors start their stack with `file:line` and the offending line.
  const located = /^(\S+:\d+)\n(.*)\n(\s*\^+)\s*\n/.exec(error.stack ?? '');
  if (located !== null) return `SyntaxError: ${error.message}\n  at ${shown(located[1]!)}\n${located[2]}\n${located[3]}`;
  const check = spawnSync(process.execPath, ['--check', path], { encoding: 'utf8', timeout: 10_000 });
  const checked = /^(\S+:\d+)\n(.*)\n(\s*\^+)\s*\n/.exec(check.stderr ?? '');
  if (checked !== null) return `SyntaxError: ${error.message}\n  at ${shown(checked[1]!)}\n${checked[2]}\n${checked[3]}`;
  return `SyntaxError: ${error.message} (in a module it imports)`;
}

/** `file:///app.js:3` as the path a user typed it in: `/app.js:3`. */
function shown(location: string): string {
  return location.startsWith('file:') ? fileURLToPath(location.replace(/:\d+$/, '')) + location.slice(location.lastIndexOf(':')) : location;
}

/** Tell what `value` is, the way its shape shows it (or as `type` says). */
export async function detect(value: unknown, where: string, type?: AppType): Promise<LoadedApp> {
  const o = value as Record<string, unknown>;
  const kind = type ?? guessKind(value);
  switch (kind) {
    case 'fastify': {
      if (typeof o.ready !== 'function' || typeof o.server !== 'object') {
        throw new RocketError('ROCKET_ERR_INVALID_APP', `${where} is not a Fastify instance`);
      }
      // A Fastify instance already has its own (unused) http.Server with Fastify's handler on
      // 'request' (and plugins' on 'upgrade'): dispatch to it.
      await (o.ready as () => Promise<unknown>).call(value);
      const server = o.server as NonNullable<Extract<LoadedApp, { kind: 'listener' }>['upgrades']>;
      return { kind: 'listener', listener: (req, res) => server.emit('request', req, res), upgrades: server, description: `Fastify instance ${where}` };
    }
    case 'koa':
      if (typeof o.callback !== 'function') throw new RocketError('ROCKET_ERR_INVALID_APP', `${where} is not a Koa app`);
      return { kind: 'listener', listener: (o.callback as () => Listener).call(value), upgrades: null, description: `Koa app ${where}` };
    case 'express':
    case 'listener':
      if (typeof value !== 'function') throw new RocketError('ROCKET_ERR_INVALID_APP', `${where} is not a request listener`);
      return { kind: 'listener', listener: value as Listener, upgrades: null, description: `${kind === 'express' ? 'Express app' : 'request listener'} ${where}` };
    case 'gateway':
      if (typeof value !== 'function') throw new RocketError('ROCKET_ERR_INVALID_APP', `${where} is not a gateway app`);
      return { kind: 'gateway', app: value as GatewayApp, description: `gateway app ${where}` };
    default:
      throw new RocketError(
        'ROCKET_ERR_INVALID_APP',
        `${where} is neither a gateway app, an Express or Koa app, a Fastify instance, nor a request listener`,
      );
  }
}

function guessKind(value: unknown): AppType | null {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return null;
  const o = value as Record<string, unknown>;
  if (typeof o.ready === 'function' && typeof o.inject === 'function' && typeof o.route === 'function') return 'fastify';
  if (typeof o.callback === 'function' && typeof o.use === 'function') return 'koa';
  if (typeof value === 'function' && typeof o.handle === 'function' && typeof o.use === 'function') return 'express';
  if (typeof value !== 'function') return null;
  // A plain function: its first parameter tells. `(environ, start_response)` is a gateway app,
  // `(req, res)` a request listener; `--type` settles anything else.
  const first = /^(?:async\s+)?(?:function\b[^(]*)?\(?\s*([\w$]*)/.exec(Function.prototype.toString.call(value))?.[1] ?? '';
  if (/^(req|request|incoming|msg)$/i.test(first)) return 'listener';
  return 'gateway';
}
