/**
 * Starting Rockets for tests, and the fixture apps they serve.
 */

import { onTestFinished } from 'vitest';
import { Rocket, type Environ, type GatewayApp, type Logger, type RocketOptions } from '@rocketserver/core';

export interface Served {
  server: Rocket;
  port: number;
  logs: LogLine[];
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** The channel, for lines logged through a child (`Rocket.Requests`, …). */
  channel?: string;
}

type MemoryLogger = Logger & { lines: LogLine[]; child(bindings: { channel?: string }): MemoryLogger };

/** A logger that keeps every line (with its channel, through child()), for assertions. */
export function memoryLogger(lines: LogLine[] = [], channel?: string): MemoryLogger {
  const keep = (level: LogLine['level']) => (message: string) => {
    lines.push(channel === undefined ? { level, message } : { level, message, channel });
  };
  return {
    lines,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    child: (bindings) => memoryLogger(lines, bindings.channel),
  };
}

/**
 * Start a Rocket on 127.0.0.1 port 0 (or the given interfaces) serving `app`; it is stopped when
 * the test finishes.
 */
export async function serve(app: GatewayApp, options: RocketOptions = {}, interfaces: unknown = ['127.0.0.1', 0]): Promise<Served> {
  const logger = memoryLogger();
  const server = new Rocket(interfaces, 'wsgi', { wsgi_app: app }, { logger, logLevel: 'debug', ...options });
  await server.start();
  // A test that failed may leave requests hanging: do not wait long for them.
  onTestFinished(() => server.stop({ timeout: 1 }));
  return { server, port: server.addresses[0]!.port, logs: logger.lines };
}

/** What the echo app reports about a request. */
export interface Echo {
  environ: Record<string, string | boolean | null | string[]>;
  body: string;
  bodyBase64: string;
  trailers: string[] | null;
}

/**
 * The workhorse fixture: reads the whole body and answers 200 with a JSON description of the
 * environ (every string-valued key) and the body.
 */
export const echoApp: GatewayApp = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  const reported: Echo = { environ: {}, body: body.toString('utf8'), bodyBase64: body.toString('base64'), trailers: null };
  for (const [key, value] of Object.entries(environ)) {
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) reported.environ[key] = value;
  }
  reported.environ['rocket.raw_headers'] = [...environ['rocket.raw_headers']];
  reported.trailers = (environ['rocket.trailers'] as string[] | undefined) ?? null;
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(reported)];
};

/** Answers `text` with 200 and text/plain, without reading the body. */
export function textApp(text: string, headers: [string, string][] = []): GatewayApp {
  return (_environ: Environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ...headers]);
    return [text];
  };
}
