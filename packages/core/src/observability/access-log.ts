/**
 * Access log lines: Rocket's format, Apache's `common` and `combined`, or a format string of
 * Apache's `%` directives. Pure: a finished request in, a line out.
 */

import { MONTHS } from '../http/dates.js';
import { workerNumber } from './worker-number.js';

/** What is known about a request once its response is done (or refused). */
export interface AccessRecord {
  remoteAddress: string;
  /** The request-line as received (`GET / HTTP/1.1`), `-` when none could be read. */
  requestLine: string;
  method: string;
  /** The request-target as received, with its query. */
  target: string;
  /** `HTTP/1.1`, or '' when unknown. */
  protocol: string;
  status: number;
  /** Body bytes sent (without chunk framing). */
  bytes: number;
  /** When the request started (its first byte), ms since the epoch. */
  startTime: number;
  /** From the first byte of the request to the end of the response, in ms. */
  durationMs: number;
  /** The value of a request header field (case-insensitive), or undefined. */
  header(name: string): string | undefined;
}

export type AccessLogFormat = 'rocket' | 'common' | 'combined' | (string & {});

const FORMATS: Record<string, string> = {
  // Rocket's LOG_LINE, with the status and size of this request (Rocket logged stale ones).
  rocket: '%h - "%r" - %>s %B',
  common: '%h %l %u %t "%r" %>s %b',
  combined: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
};

type Part = string | ((record: AccessRecord) => string);

/**
 * Compile a format once; the returned function builds each line.
 *
 * Directives: `%h`/`%a` client address, `%l` `-`, `%u` `-`, `%t` time (`[21/Nov/2026:10:00:00
 * +0000]`), `%r` request-line, `%m` method, `%U` path, `%q` query (with `?`), `%H` protocol,
 * `%s`/`%>s` status, `%b` body bytes (`-` for none), `%B` body bytes, `%D` duration in µs,
 * `%T` in seconds, `%{ms}T` in milliseconds, `%{Name}i` a request header, `%P` the process id,
 * `%{worker}P` the worker number (`-` outside workers), `%%` a percent sign. In a worker process,
 * Rocket's own format ends with `worker=N`, so the log says which worker answered.
 *
 * @example
 * compileAccessFormat('%h "%r" %>s %{ms}T')(record); // '127.0.0.1 "GET / HTTP/1.1" 200 3'
 */
export function compileAccessFormat(format: AccessLogFormat): (record: AccessRecord) => string {
  const worker = workerNumber();
  const source = format === 'rocket' && worker !== 0 ? `${FORMATS.rocket} worker=%{worker}P` : (FORMATS[format] ?? format);
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c !== '%') {
      text += c;
      continue;
    }
    let argument: string | null = null;
    let j = i + 1;
    if (source[j] === '{') {
      const close = source.indexOf('}', j);
      if (close === -1) throw new TypeError(`access log format: unclosed %{ in ${JSON.stringify(source)}`);
      argument = source.slice(j + 1, close);
      j = close + 1;
    }
    if (source[j] === '>') j++;
    const directive = source[j];
    if (directive === '%') {
      text += '%';
      i = j;
      continue;
    }
    const part = directivePart(directive, argument);
    if (part === null) throw new TypeError(`access log format: unknown directive %${argument === null ? '' : `{${argument}}`}${directive ?? ''} in ${JSON.stringify(source)}`);
    if (text !== '') parts.push(text);
    text = '';
    parts.push(part);
    i = j;
  }
  if (text !== '') parts.push(text);
  return (record) => {
    let line = '';
    for (const part of parts) line += typeof part === 'string' ? part : part(record);
    return line;
  };
}

function directivePart(directive: string | undefined, argument: string | null): Part | null {
  switch (directive) {
    case 'h':
    case 'a':
      return (r) => r.remoteAddress || '-';
    case 'l':
    case 'u':
      return '-';
    case 't':
      return (r) => apacheTime(r.startTime);
    case 'r':
      return (r) => escape(r.requestLine);
    case 'm':
      return (r) => escape(r.method || '-');
    case 'U':
      return (r) => escape(pathOf(r.target));
    case 'q':
      return (r) => escape(queryOf(r.target));
    case 'H':
      return (r) => r.protocol || '-';
    case 's':
      return (r) => String(r.status);
    case 'b':
      return (r) => (r.bytes === 0 ? '-' : String(r.bytes));
    case 'B':
      return (r) => String(r.bytes);
    case 'D':
      return (r) => String(Math.round(r.durationMs * 1000));
    case 'T':
      if (argument === 'ms') return (r) => String(Math.round(r.durationMs));
      if (argument === 'us') return (r) => String(Math.round(r.durationMs * 1000));
      return (r) => String(Math.floor(r.durationMs / 1000));
    case 'P':
      if (argument === null || argument === 'pid') return String(process.pid);
      if (argument === 'worker') return workerNumber() === 0 ? '-' : String(workerNumber());
      return null;
    case 'i':
      if (argument === null || argument === '') return null;
      return (r) => {
        const value = r.header(argument);
        return value === undefined ? '-' : escape(value);
      };
    default:
      return null;
  }
}

function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q);
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `[21/Nov/2026:10:00:00 +0000]`: Apache's %t, in UTC. */
export function apacheTime(ms: number): string {
  const d = new Date(ms);
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

/**
 * Client bytes in a log line: quotes, backslashes and anything not printable ASCII become
 * escapes, so a request cannot forge or break lines of the log.
 */
export function escape(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x22) out += '\\"';
    else if (code === 0x5c) out += '\\\\';
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += value[i];
  }
  return out;
}
