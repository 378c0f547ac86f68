#!/usr/bin/env node
/**
 * The `rocket` command. With no app it serves Rocket's demo page:
 *
 *   rocket -i 127.0.0.1 -p 8000
 *
 * With a module, it serves the app the module exports — a gateway app, an Express or Koa app, a
 * Fastify instance or a plain request listener (the last four through @rocketserver/adapter-node):
 *
 *   rocket ./app.js            the default export (or an export named `app`)
 *   rocket ./app.js:api        the export named `api`
 *
 * Every server option has a flag, generated from the option table (`--socket-timeout 5`, …).
 */

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { APP_TYPES, loadApp, type AppType, type LoadedApp } from './app-module.js';
import { demoApp } from './demo.js';
import { RocketError } from './errors.js';
import { OPTIONS, VERSION, type RocketOptions } from './options.js';
import { Rocket } from './rocket.js';
import { staticFiles } from './static-files.js';
import { workerNumber } from './workers.js';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Option flags from the table: only those with an `arg` placeholder. */
const optionFlags = Object.entries(OPTIONS).filter(([, spec]) => spec.arg !== undefined);

function usage(): string {
  const lines = [
    `Usage: rocket [options] [MODULE[:EXPORT]]`,
    ``,
    `Rocket for Node ${VERSION}: serves the app MODULE exports (its default export, or an export`,
    `named "app", or EXPORT): a gateway app, an Express or Koa app, a Fastify instance or a Node`,
    `request listener. Without MODULE, Rocket's demo page.`,
    ``,
    `  -i, --ip HOST            interface to listen on (default 127.0.0.1; '' = every interface)`,
    `  -p, --port PORT          port (default 8000; 0 = any free port)`,
    `  -s, --static DIR         serve the files of DIR (folders listed) instead of an app`,
    `  --type TYPE              what MODULE exports, when its shape does not tell: ${APP_TYPES.join(', ')}`,
    ...optionFlags.map(([name, spec]) => `  --${`${kebab(name)} ${spec.arg}`.padEnd(23)}${spec.doc}`),
    `  -h, --help               this text`,
    `  -v, --version            the version`,
  ];
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const config: ParseArgsConfig = {
    args: argv,
    options: {
      ip: { type: 'string', short: 'i', default: '127.0.0.1' },
      port: { type: 'string', short: 'p', default: '8000' },
      type: { type: 'string' },
      static: { type: 'string', short: 's' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      ...Object.fromEntries(optionFlags.map(([name]) => [kebab(name), { type: 'string' as const }])),
    },
    strict: true,
    allowPositionals: true,
  };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs(config);
    values = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
    if (positionals.length > 1) throw new Error(`one app module at most (got ${positionals.join(', ')})`);
    if (values.static !== undefined && positionals.length > 0) throw new Error('--static serves a folder: no app module with it');
    if (values.type !== undefined && !(APP_TYPES as readonly string[]).includes(values.type as string)) {
      throw new Error(`--type must be one of ${APP_TYPES.join(', ')}`);
    }
  } catch (error) {
    process.stderr.write(`rocket: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const options: Record<string, unknown> = {};
  for (const [name] of optionFlags) {
    const raw = values[kebab(name)];
    if (typeof raw !== 'string') continue;
    const numeric = typeof (OPTIONS as Record<string, { default: () => unknown }>)[name]!.default() === 'number';
    // A value that is not a number stays text, for the option's check to accept ('auto') or name.
    options[name] = numeric && raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  let loaded: LoadedApp;
  let served: { addresses: Rocket['addresses']; stopped(): Promise<void> };
  try {
    loaded =
      values.static !== undefined
        ? staticFolder(values.static as string)
        : positionals[0] === undefined
          ? { kind: 'gateway', app: demoApp, description: "Rocket's demo page" }
          : await loadApp(positionals[0], process.cwd(), values.type as AppType | undefined);
    served = await serve(loaded, values.ip as string, values.port as string, options as RocketOptions);
  } catch (error) {
    process.stderr.write(`rocket: ${error instanceof RocketError ? error.message : String(error)}\n`);
    return 1;
  }
  // With --workers, each worker runs this command too; the primary alone says where it serves.
  for (const address of workerNumber() === 0 ? served.addresses : []) {
    const where =
      address.family === 'unix'
        ? `unix:${address.host}`
        : `http${address.secure ? 's' : ''}://${address.family === 'IPv6' ? `[${address.host}]` : address.host}:${address.port}/`;
    process.stdout.write(`Rocket for Node ${VERSION} serving ${loaded.description} on ${where} (Ctrl-C to stop)\n`);
  }
  // SIGTERM and SIGINT stop the server gracefully, SIGHUP restarts it (the handleSignals option).
  await served.stopped();
  return 0;
}

/** Serve a gateway app on a Rocket, anything else through @rocketserver/adapter-node. */
/** `rocket -s DIR`: the files of DIR, folders listed (Rocket's demo did this with --static). */
function staticFolder(dir: string): LoadedApp {
  const root = resolve(dir);
  let isDirectory = false;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {
    // Reported below.
  }
  if (!isDirectory) throw new RocketError('ROCKET_ERR_INVALID_APP', `--static: ${dir} is not a folder`);
  return { kind: 'gateway', app: staticFiles({ document_root: root, display_index: true }), description: `the files of ${root}` };
}

async function serve(loaded: LoadedApp, ip: string, port: string, options: RocketOptions) {
  if (loaded.kind === 'gateway') {
    const server = new Rocket([ip, port], 'wsgi', { wsgi_app: loaded.app }, options);
    await server.start();
    return server;
  }
  const bridge = await importAdapterNode();
  const server = bridge.createServer({ rocket: { handleSignals: true, ...options } }, loaded.listener);
  const upgrades = loaded.upgrades;
  if (upgrades !== null && upgrades.listenerCount('upgrade') > 0) {
    server.on('upgrade', (...args: unknown[]) => upgrades.emit('upgrade', ...args));
  }
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(Number(port), ip === '' ? undefined : ip, () => resolvePromise());
  });
  const rocket = server.rocket as Rocket;
  return { addresses: rocket.addresses, stopped: () => rocket.stopped() };
}

interface AdapterNode {
  createServer(
    options: { rocket: RocketOptions },
    listener: (req: unknown, res: unknown) => void,
  ): {
    on(event: string, listener: (...args: unknown[]) => void): void;
    once(event: string, listener: (...args: unknown[]) => void): void;
    listen(port: number, host: string | undefined, callback: () => void): void;
    rocket: unknown;
  };
}

/** @rocketserver/adapter-node, loaded only for apps that need it: the core depends on nothing. */
async function importAdapterNode(): Promise<AdapterNode> {
  const name = '@rocketserver/adapter-node';
  try {
    return (await import(name)) as AdapterNode;
  } catch (error) {
    throw new RocketError(
      'ROCKET_ERR_INVALID_APP',
      `serving this app needs ${name} (npm install ${name}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
