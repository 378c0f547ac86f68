/**
 * The constructor's arguments: CherryPy's parameters positionally or by name (Python's keyword
 * arguments) gathered into one object, and `bind_addr` checked and described as cheroot's
 * messages show it. Pure functions, apart from clearing a stale UNIX socket before binding.
 */

import { lstatSync, unlinkSync } from 'node:fs';
import type { GatewayApp } from '@rocketserver/core';

/** `(host, port)`, a UNIX socket path, or one of Rocket's TLS tuples. */
export type BindAddr = readonly [host: string | null, port: number | string, ...tls: string[]] | string;

/** A WSGI app, or the 3.0-era list of `[prefix, app]` pairs (served through a dispatcher). */
export type WsgiApp = GatewayApp | readonly (readonly [string, GatewayApp])[] | null;

/** The constructor's parameters by name (Bottle, WsgiDAV and PasteScript pass them all this way). */
export interface ServerArgs {
  bind_addr?: BindAddr;
  wsgi_app?: WsgiApp;
  numthreads?: number;
  server_name?: string | null;
  max?: number;
  request_queue_size?: number;
  timeout?: number;
  shutdown_timeout?: number;
  accepted_queue_size?: number;
  accepted_queue_timeout?: number;
  /** UNIX peer credentials need SO_PEERCRED, which Node cannot read: accepted, and refused if true. */
  peercreds_enabled?: boolean;
  peercreds_resolve_enabled?: boolean;
  /** SO_REUSEPORT: accepted, and refused if true (not available to a Node server on every platform). */
  reuse_port?: boolean;
}

const PARAMETERS = [
  'bind_addr',
  'wsgi_app',
  'numthreads',
  'server_name',
  'max',
  'request_queue_size',
  'timeout',
  'shutdown_timeout',
  'accepted_queue_size',
  'accepted_queue_timeout',
  'peercreds_enabled',
  'peercreds_resolve_enabled',
  'reuse_port',
] as const;

/** Every argument the constructor was given, by name; throws as Python would on a wrong call. */
export function collectArgs(values: unknown[]): ServerArgs {
  const args: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    if (i >= PARAMETERS.length) throw new TypeError(`CherryPyWSGIServer() takes at most ${PARAMETERS.length} positional arguments`);
    // A trailing plain object holds the rest by name (Python's keyword arguments).
    if (isKeywordObject(value)) {
      for (const [name, given] of Object.entries(value as Record<string, unknown>)) {
        if (!(PARAMETERS as readonly string[]).includes(name)) throw new TypeError(`CherryPyWSGIServer() got an unexpected keyword argument '${name}'`);
        if (name in args) throw new TypeError(`CherryPyWSGIServer() got multiple values for argument '${name}'`);
        if (given !== undefined) args[name] = given;
      }
      if (values.slice(i + 1).some((v) => v !== undefined)) throw new TypeError('CherryPyWSGIServer(): positional argument after the keyword arguments');
      break;
    }
    args[PARAMETERS[i]!] = value;
  }
  return args as ServerArgs;
}

/** A plain object: Python's keyword arguments (no positional parameter takes one). */
function isKeywordObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** `bind_addr` as given, checked: a non-empty path, or `[host, port, …tls]` with a port number. */
export function checkBindAddr(value: unknown): BindAddr {
  if (typeof value === 'string') {
    if (value === '') throw new TypeError('bind_addr: an empty string is neither a UNIX socket path nor an address');
    return value;
  }
  if (!Array.isArray(value) || value.length < 2) throw new TypeError('bind_addr must be [host, port] or a UNIX socket path');
  const [host, port, ...rest] = value as unknown[];
  if (host !== null && typeof host !== 'string') throw new TypeError(`bind_addr: the host must be a string, not ${typeof host}`);
  const number = typeof port === 'string' && /^\d+$/.test(port.trim()) ? Number(port) : port;
  if (!Number.isInteger(number) || (number as number) < 0 || (number as number) > 65535) {
    throw new TypeError(`bind_addr: ${JSON.stringify(port)} is not a port number`);
  }
  return [host ?? '', number as number, ...(rest as string[])] as unknown as BindAddr;
}

export function describeBindAddr(bind: BindAddr): string {
  // Python's repr of the tuple, as cheroot's messages show it.
  return typeof bind === 'string' ? bind : `('${bind[0] ?? ''}', ${String(bind[1])})`;
}

/** Like cheroot, bind a UNIX socket path even if a file (a socket left behind) is there. */
export function removeStaleSocket(bind: BindAddr): void {
  if (typeof bind !== 'string' || bind.startsWith('\0')) return;
  try {
    if (!lstatSync(bind).isDirectory()) unlinkSync(bind);
  } catch {
    // Nothing there (or not ours to remove): binding reports what is wrong.
  }
}
