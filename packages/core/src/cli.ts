#!/usr/bin/env node
/**
 * The `rocket` command. With no app it serves Rocket's demo page:
 *
 *   rocket -i 127.0.0.1 -p 8000
 *   rocket -b 127.0.0.1:8000 -b '[::1]:8443' --certfile cert.pem --keyfile key.pem
 *
 * With a module, it serves the app the module exports — a gateway app, an Express or Koa app, a
 * Fastify instance or a plain request listener (the last four through @rocketserver/adapter-node):
 *
 *   rocket ./app.js            the default export (or an export named `app`)
 *   rocket ./app.js:api        the export named `api`
 *
 * Every server option that a command line can express has a flag, generated from the option
 * table (`--socket-timeout 5`, `--no-handle-signals`, …). A wrong command line exits with status 2
 * and one line saying what is wrong; an app that cannot be loaded or served, with status 1.
 */

import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { APP_TYPES, loadApp, type AppType, type LoadedApp } from './load-app.js';
import { demoApp } from './apps/demo.js';
import { RocketError } from './errors.js';
import type { GatewayApp } from './gateway/run-app.js';
import type { Interface } from './engine/bind.js';
import { LOG_LEVELS, type Logger, type LogLevel } from './observability/logging.js';
import { OPTIONS, resolveOptions, type RocketOptions } from './options.js';
import { VERSION } from './version.js';
import { Rocket } from './rocket.js';
import { staticFiles } from './apps/static-files.js';
import { workerNumber } from './observability/worker-number.js';

/** A wrong command line: reported in one line, exit status 2. */
class UsageError extends Error {}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

type OptionName = keyof RocketOptions;
type FlagKind = 'number' | 'string' | 'boolean' | 'levels' | 'interface' | 'mode';

/** Options whose values are code (a logger object, a hook function): no command line can give them. */
const CODE_ONLY: readonly OptionName[] = ['logger', 'onClientError', 'onConnection', 'onDrop'];

/** What the command line says for the options whose values are not a number, a string or a flag. */
const SPECIAL: Partial<Record<OptionName, { kind: FlagKind; arg: string; doc: string }>> = {
  logLevels: {
    kind: 'levels',
    arg: 'CHANNEL=LEVEL,…',
    doc: "levels per channel (a channel's children inherit it), e.g. Rocket.Monitor=debug",
  },
  metricsInterface: { kind: 'interface', arg: 'HOST:PORT', doc: 'serve Prometheus metrics on an interface of their own, e.g. 127.0.0.1:9100' },
  unixSocketMode: { kind: 'mode', arg: 'MODE', doc: 'file mode of unix: interfaces, in octal as chmod takes it, e.g. 660' },
};

interface OptionFlag {
  name: OptionName;
  flag: string;
  kind: FlagKind;
  arg: string;
  doc: string;
  defaultValue: unknown;
}

const optionFlags: OptionFlag[] = (Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][])
  .filter(([name]) => !CODE_ONLY.includes(name))
  .map(([name, spec]) => {
    const defaultValue = spec.default();
    const special = SPECIAL[name];
    // An option with a value placeholder takes a value (accessLog: false or a format); one
    // without, whose default is true or false, is an on/off flag.
    const kind: FlagKind =
      special?.kind ??
      (spec.arg === undefined && typeof defaultValue === 'boolean' ? 'boolean' : typeof defaultValue === 'number' ? 'number' : 'string');
    return { name, flag: kebab(name), kind, arg: special?.arg ?? spec.arg ?? 'VALUE', doc: special?.doc ?? spec.doc, defaultValue };
  });

// ---- help ----

const HELP_WIDTH = 80;
/** Flags longer than this put their description on the next line, so the columns never touch. */
const FLAG_COLUMN = 30;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Two columns: the flag, then its description wrapped beside it (or below, for a long flag). */
function rows(entries: [flag: string, doc: string][], column: number): string[] {
  const out: string[] = [];
  for (const [flag, doc] of entries) {
    const text = wrap(doc, HELP_WIDTH - column);
    const head = `  ${flag}`;
    if (head.length + 2 <= column) {
      out.push(head.padEnd(column) + (text[0] ?? ''));
      text.shift();
    } else {
      out.push(head);
    }
    for (const line of text) out.push(' '.repeat(column) + line);
  }
  return out;
}

function shownDefault(option: OptionFlag): string {
  const value = option.defaultValue;
  if (/\(default/.test(option.doc)) return '';
  if (typeof value === 'boolean') return ` (default: ${value ? 'on' : 'off'})`;
  if (typeof value === 'number') return ` (default: ${value})`;
  if (typeof value === 'string' && value !== '') return ` (default: ${value})`;
  return '';
}

function usage(): string {
  const listen: [string, string][] = [
    ['-b, --bind ADDRESS', 'HOST:PORT, [IPv6]:PORT, :PORT (every interface), unix:PATH, fd://FD, systemd:// or systemd://NAME (sockets systemd passed); repeat it to listen on several'],
    ['-i, --ip HOST', "interface to listen on, as in Rocket ('' = every interface)"],
    ['-p, --port PORT', 'port to listen on, 0 to 65535 (0 = any free port)'],
    ['--certfile FILE', 'serve HTTPS on every HOST:PORT interface with this certificate (PEM)'],
    ['--keyfile FILE', 'the private key of --certfile (PEM)'],
    ['--ca-certs FILE', 'ask clients for certificates and verify them against these CAs (PEM)'],
  ];
  const serve: [string, string][] = [
    ['-s, --static DIR', 'serve the files of DIR (folders listed) instead of an app'],
    ['--type TYPE', `what MODULE exports, when its shape does not tell: ${APP_TYPES.join(', ')}`],
  ];
  const server: [string, string][] = optionFlags.map((option) => [
    option.kind === 'boolean' ? `--[no-]${option.flag}` : `--${option.flag} ${option.arg}`,
    option.doc + shownDefault(option),
  ]);
  const other: [string, string][] = [
    ['-h, --help', 'this text'],
    ['-v, --version', 'the version'],
  ];
  const all = [...listen, ...serve, ...server, ...other];
  const column = Math.min(FLAG_COLUMN, Math.max(...all.map(([flag]) => flag.length))) + 4;
  const lines = [
    `Usage: rocket [options] [MODULE[:EXPORT]]`,
    ``,
    ...wrap(
      `Rocket for Node ${VERSION} serves the app MODULE exports (its default export, an export named "app", or EXPORT): ` +
        `a gateway app, an Express or Koa app, a Fastify instance or a Node request listener. ` +
        `Without MODULE, Rocket's demo page.`,
      HELP_WIDTH,
    ),
    ``,
    `Where to listen (default 127.0.0.1:8000):`,
    ...rows(listen, column),
    ``,
    `What to serve:`,
    ...rows(serve, column),
    ``,
    `Server options (the README's options table has them all):`,
    ...rows(server, column),
    ``,
    ...rows(other, column),
  ];
  return `${lines.join('\n')}\n`;
}

// ---- parsing ----

/** A port: digits only, 0 to 65535. */
function parsePort(text: string, flag: string, whole = text): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    const where = whole === text ? '' : `${JSON.stringify(whole)}: `;
    throw new UsageError(`${flag} ${where}${JSON.stringify(text)} is not a port: a number from 0 to 65535`);
  }
  return Number(text);
}

/**
 * `HOST:PORT`, `[IPv6]:PORT`, `:PORT` (every interface) or `unix:PATH`, as gunicorn and uvicorn
 * take them. A UNIX socket is only ever what `unix:` asks for.
 */
function parseBind(text: string, flag = '--bind'): { host: string; port: number } | { path: string } {
  // Inherited sockets are interfaces of their own, spelled the same way.
  if (/^fd:\/\/\d+$/.test(text) || text.startsWith('systemd://')) return { path: text };
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw new UsageError(`${flag} ${JSON.stringify(text)}: unix: needs a socket path`);
    return { path };
  }
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(text);
  if (bracketed !== null) {
    if (!bracketed[1]!.includes(':')) throw new UsageError(`${flag} ${JSON.stringify(text)}: brackets are for IPv6 addresses`);
    return { host: bracketed[1]!, port: parsePort(bracketed[2]!, flag, text) };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) throw new UsageError(`${flag} ${JSON.stringify(text)} is not HOST:PORT, [IPv6]:PORT or unix:PATH`);
  const host = text.slice(0, colon);
  if (host.includes(':')) throw new UsageError(`${flag} ${JSON.stringify(text)}: an IPv6 address goes in brackets, as in [::1]:8000`);
  return { host, port: parsePort(text.slice(colon + 1), flag, text) };
}

function parseNumber(text: string, flag: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) throw new UsageError(`${flag} ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** `Rocket.Monitor=debug,Rocket.Errors=warn`, from one or more `--log-levels`. */
function parseLevels(texts: string[], flag: string): Record<string, LogLevel> {
  const levels: Record<string, LogLevel> = {};
  for (const item of texts.flatMap((text) => text.split(','))) {
    const [channel, level, extra] = item.split('=').map((part) => part.trim());
    if (!channel || extra !== undefined || !LOG_LEVELS.includes(level as LogLevel)) {
      throw new UsageError(`${flag} ${JSON.stringify(item)} is not CHANNEL=LEVEL (LEVEL one of ${LOG_LEVELS.join(', ')})`);
    }
    levels[channel] = level as LogLevel;
  }
  return levels;
}

function toInterface(bind: ReturnType<typeof parseBind>, tls: string[]): Interface {
  if ('path' in bind) return bind.path;
  return [bind.host, bind.port, ...tls] as unknown as Interface;
}

interface Command {
  help: boolean;
  version: boolean;
  interfaces: Interface[];
  module: string | undefined;
  type: AppType | undefined;
  staticDir: string | undefined;
  options: RocketOptions;
}

/** The command line, checked: every mistake is a {@link UsageError}. */
function parseCommandLine(argv: string[]): Command {
  const flags: ParseArgsConfig['options'] = {
    bind: { type: 'string', short: 'b', multiple: true },
    ip: { type: 'string', short: 'i' },
    port: { type: 'string', short: 'p' },
    certfile: { type: 'string' },
    keyfile: { type: 'string' },
    'ca-certs': { type: 'string' },
    type: { type: 'string' },
    static: { type: 'string', short: 's' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const option of optionFlags) {
    if (option.kind === 'boolean') {
      flags[option.flag] = { type: 'boolean' };
      flags[`no-${option.flag}`] = { type: 'boolean' };
    } else {
      flags[option.flag] = { type: 'string', multiple: option.kind === 'levels' };
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: flags, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const unknown = /^Unknown option '([^']*)'/.exec((error as Error).message);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== null) {
      throw new UsageError(`unknown option ${unknown[1]} (rocket --help lists the options)`);
    }
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const positionals = parsed.positionals;
  const command: Command = {
    help: values.help === true,
    version: values.version === true,
    interfaces: [],
    module: positionals[0],
    type: undefined,
    staticDir: values.static as string | undefined,
    options: {},
  };
  if (command.help || command.version) return command;
  if (positionals.length > 1) throw new UsageError(`one app module at most (got ${positionals.join(', ')})`);
  if (command.staticDir !== undefined && command.module !== undefined) throw new UsageError('--static serves a folder: no app module with it');
  if (values.type !== undefined) {
    if (!(APP_TYPES as readonly string[]).includes(values.type as string)) throw new UsageError(`--type must be one of ${APP_TYPES.join(', ')}`);
    command.type = values.type as AppType;
  }

  // TLS, for every TCP interface.
  const certfile = values.certfile as string | undefined;
  const keyfile = values.keyfile as string | undefined;
  const caCerts = values['ca-certs'] as string | undefined;
  if ((certfile === undefined) !== (keyfile === undefined)) throw new UsageError('--certfile and --keyfile go together');
  if (caCerts !== undefined && certfile === undefined) throw new UsageError('--ca-certs needs --certfile and --keyfile');
  // Rocket's tuples put the key before the certificate.
  const tls = certfile === undefined ? [] : [keyfile!, certfile, ...(caCerts === undefined ? [] : [caCerts])];

  // Where to listen: --bind, or Rocket's -i/-p.
  const binds = (values.bind as string[] | undefined) ?? [];
  if (binds.length > 0 && (values.ip !== undefined || values.port !== undefined)) {
    throw new UsageError('--bind and -i/-p both say where to listen: use one or the other');
  }
  const parsedBinds =
    binds.length > 0
      ? binds.map((bind) => parseBind(bind))
      : [{ host: (values.ip as string | undefined) ?? '127.0.0.1', port: parsePort((values.port as string | undefined) ?? '8000', '--port') }];
  if (tls.length > 0 && parsedBinds.every((bind) => 'path' in bind)) throw new UsageError('--certfile serves HTTPS on HOST:PORT interfaces: give one');
  command.interfaces = parsedBinds.map((bind) => toInterface(bind, tls));

  // Server options, in the order given, so the last of --x and --no-x wins.
  const options: Record<string, unknown> = {};
  const byFlag = new Map(optionFlags.map((option) => [option.flag, option]));
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    const negated = token.name.startsWith('no-') && byFlag.get(token.name.slice(3))?.kind === 'boolean';
    const option = negated ? byFlag.get(token.name.slice(3))! : byFlag.get(token.name);
    if (option === undefined) continue;
    const flag = token.rawName;
    const raw = token.value ?? '';
    switch (option.kind) {
      case 'boolean':
        options[option.name] = !negated;
        break;
      case 'number':
        // `--workers auto`: one per core; any other word is the option check's to name.
        options[option.name] = option.name === 'workers' && raw === 'auto' ? raw : parseNumber(raw, flag);
        break;
      case 'string':
        options[option.name] = raw;
        break;
      case 'levels':
        options[option.name] = { ...(options[option.name] as object | undefined), ...parseLevels([raw], flag) };
        break;
      case 'mode':
        if (!/^0?o?[0-7]{1,4}$/.test(raw)) throw new UsageError(`${flag} ${JSON.stringify(raw)} is not an octal file mode such as 660`);
        options[option.name] = parseInt(raw.replace(/^0?o/, ''), 8);
        break;
      case 'interface': {
        const bind = parseBind(raw, flag);
        options[option.name] = 'path' in bind ? bind.path : [bind.host, bind.port];
        break;
      }
    }
  }
  try {
    resolveOptions(options as RocketOptions);
  } catch (error) {
    // The table's checks name the option; here it is a flag.
    if (error instanceof RocketError) throw new UsageError(error.message.replace(/^option (\w+)/, (_, name: string) => `--${kebab(name)}`));
    throw error;
  }
  command.options = options as RocketOptions;
  return command;
}

// ---- logging ----

/**
 * The command's logger: every message its channels let through, so `--log-level debug` shows
 * debug lines and `--log-level warn` hides the start-up lines. The access log goes to stdout as
 * it is, everything else to stderr with its level and channel.
 */
function commandLogger(): Logger & { child(bindings: { channel?: string }): Logger } {
  const line = (level: string, channel: string | undefined) => (message: string) =>
    void process.stderr.write(`[${level}] ${channel === undefined ? '' : `${channel}: `}${message}\n`);
  const make = (channel?: string): Logger => ({
    debug: line('debug', channel),
    info: line('info', channel),
    warn: line('warn', channel),
    error: line('error', channel),
  });
  const access = (message: string) => void process.stdout.write(`${message}\n`);
  return {
    ...make(),
    child: ({ channel }) => (channel === 'Rocket.Requests' ? { ...make(channel), info: access } : make(channel)),
  };
}

// ---- serving ----

export async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`rocket: ${error.message}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (command.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let loaded: LoadedApp;
  let server: Rocket;
  try {
    loaded =
      command.staticDir !== undefined
        ? staticFolder(command.staticDir)
        : command.module === undefined
          ? { kind: 'gateway', app: demoApp, description: "Rocket's demo page" }
          : await loadApp(command.module, process.cwd(), command.type);
    const app = loaded.kind === 'gateway' ? loaded.app : await bridged(loaded);
    server = new Rocket(command.interfaces, 'wsgi', { wsgi_app: app }, { logger: commandLogger(), ...command.options });
    await server.start();
  } catch (error) {
    process.stderr.write(`rocket: ${error instanceof RocketError ? error.message : String(error)}\n`);
    return 1;
  }
  // With workers, each worker runs this command too; the primary alone says where it serves.
  for (const address of workerNumber() === 0 ? server.addresses : []) {
    process.stdout.write(`Rocket for Node ${VERSION} serving ${loaded.description} on ${url(address)} (Ctrl-C to stop)\n`);
  }
  const metrics = server.metricsAddress;
  if (metrics !== null) process.stdout.write(`Metrics on ${url(metrics)}\n`);
  // SIGTERM and SIGINT stop the server gracefully, SIGHUP restarts it (the handleSignals option).
  await server.stopped();
  return 0;
}

function url(address: Rocket['addresses'][number]): string {
  if (address.family === 'unix') return `unix:${address.host}`;
  const host = address.family === 'IPv6' ? `[${address.host}]` : address.host;
  return `http${address.secure ? 's' : ''}://${host}:${address.port}/`;
}

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

/** A Node request listener as a gateway app, through @rocketserver/adapter-node's bridge. */
async function bridged(loaded: Extract<LoadedApp, { kind: 'listener' }>): Promise<GatewayApp> {
  const { bridgeApp } = await importAdapterNode();
  const upgrades = loaded.upgrades;
  return bridgeApp({
    server: (upgrades as AdapterNodeDispatcher['server']) ?? null,
    request: loaded.listener,
    checkContinue: () => false,
    wantsUpgrade: () => upgrades !== null && upgrades.listenerCount('upgrade') > 0,
    upgrade: (req, socket, head) => upgrades?.emit('upgrade', req, socket, head),
    timeout: 0,
    timedOut: () => false,
  });
}

/** The part of adapter-node's `Dispatcher` the command fills in. */
interface AdapterNodeDispatcher {
  server: object | null;
  request(req: unknown, res: unknown): void;
  checkContinue(req: unknown, res: unknown): boolean;
  wantsUpgrade(): boolean;
  upgrade(req: unknown, socket: unknown, head: unknown): void;
  timeout: number;
  timedOut(socket: unknown): boolean;
}

interface AdapterNode {
  bridgeApp(dispatcher: AdapterNodeDispatcher): GatewayApp;
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
