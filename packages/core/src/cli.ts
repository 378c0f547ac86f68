#!/usr/bin/env node
/**
 * The `rocket` command. With no app it serves Rocket's demo page:
 *
 *   rocket -i 127.0.0.1 -p 8000
 *
 * Every server option has a flag, generated from the option table (`--socket-timeout 5`, …).
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { demoApp } from './demo.js';
import { RocketError } from './errors.js';
import { OPTIONS, VERSION, type RocketOptions } from './options.js';
import { Rocket } from './rocket.js';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Option flags from the table: only those with an `arg` placeholder. */
const optionFlags = Object.entries(OPTIONS).filter(([, spec]) => spec.arg !== undefined);

function usage(): string {
  const lines = [
    `Usage: rocket [options]`,
    ``,
    `Rocket for Node ${VERSION}: serves Rocket's demo page.`,
    ``,
    `  -i, --ip HOST            interface to listen on (default 127.0.0.1; '' = every interface)`,
    `  -p, --port PORT          port (default 8000; 0 = any free port)`,
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
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      ...Object.fromEntries(optionFlags.map(([name]) => [kebab(name), { type: 'string' as const }])),
    },
    strict: true,
    allowPositionals: false,
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs(config).values as Record<string, string | boolean | undefined>;
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
    options[name] = numeric ? Number(raw) : raw;
  }
  let server: Rocket;
  try {
    server = new Rocket([values.ip as string, values.port as string], 'wsgi', { wsgi_app: demoApp }, options as RocketOptions);
    await server.start();
  } catch (error) {
    process.stderr.write(`rocket: ${error instanceof RocketError ? error.message : String(error)}\n`);
    return 1;
  }
  for (const address of server.addresses) {
    const host = address.family === 'IPv6' ? `[${address.host}]` : address.host;
    process.stdout.write(`Rocket for Node ${VERSION} serving http${address.secure ? 's' : ''}://${host}:${address.port}/ (Ctrl-C to stop)\n`);
  }
  // SIGTERM and SIGINT stop the server gracefully, SIGHUP restarts it (the handleSignals option).
  await server.stopped();
  return 0;
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
