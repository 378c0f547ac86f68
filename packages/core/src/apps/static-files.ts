/**
 * The `fs` method: a gateway app that serves the files under a document root (Rocket's
 * `FileSystemWorker`, with its bugs fixed — see reference/rocket.md §11.3).
 *
 * The life of a request
 * ---------------------
 * 1. Method: GET and HEAD. Anything else is 405 with `Allow: GET, HEAD`.
 * 2. Path: taken from the raw request-target (`REQUEST_URI`), not from `PATH_INFO`, whose decoding
 *    is lenient (U+FFFD for bad UTF-8, `%2F` kept). Each segment is percent-decoded here as UTF-8
 *    bytes, strictly; anything that could name something other than a plain child of the directory
 *    before it is refused (see "Refused paths").
 * 3. Resolve: the segments are joined under the real path of the document root, the result goes
 *    through `realpath`, and it must still be under the root's real path. Symlinks inside the root
 *    work; a symlink (or a symlinked directory) that leads out of it is 404.
 * 4. A directory without the trailing slash is redirected to it (301, relative Location). With the
 *    slash: its `index.html`, else a listing when `display_index` is on, else 404.
 * 5. A regular file is opened (non-blocking, so a FIFO swapped in cannot hang a worker) and
 *    `fstat`ed; size and mtime come from the open file, so headers and body agree.
 * 6. Validators: `ETag` and `Last-Modified`; `If-None-Match`, else `If-Modified-Since` → 304.
 * 7. `Range` (GET only, RFC 9110 §14.2) → 206 or 416; `If-Range` is honoured.
 * 8. The body is a {@link FileBody}: 64 KiB positional reads, `Content-Length` always set, and the
 *    file closed by the iterator's `return()`, which the gateway calls however the response ends.
 *
 * Refused paths (all 404, the answer that tells a prober least)
 * --------------------------------------------------------------
 * - targets not in origin form (absolute-form, `*`): one spelling per path, and no authority to
 *   second-guess;
 * - malformed percent-escapes, bytes that are not valid UTF-8 (overlong `%C0%AE` included);
 * - an encoded slash (`%2F`), a backslash (literal or `%5C`), NUL or any control character;
 * - empty segments (`//etc/passwd`, `/a//b`); `.` and `..` segments, encoded or not;
 * - dotfiles: any segment starting with `.` (`/.git/config`, `/.env`), except `.well-known`
 *   (RFC 8615, where ACME challenges live). Dotfiles are also left out of listings;
 * - a file requested with a trailing slash (`/a.txt/`), and anything that is not a regular file or
 *   a directory (FIFOs, sockets, devices).
 * Nothing is normalised: a path is served as written or not at all, so no two spellings of one
 * file need to agree on a check. The dot rule is about URLs: a symlink the operator put in the
 * root is followed wherever it leads inside the root, dotfiles included.
 *
 * Other policies: a `Range` with several ranges is answered 200 with the whole file (RFC 9110
 * §14.2 lets a server ignore Range; multipart/byteranges is rarely worth its cost); permission
 * errors are 403; unexpected errors are a bare 500, logged to `wsgi.errors`, never a stack trace
 * in the body. Symlinks are checked at request time; someone who can write inside the document
 * root while it is served is outside the threat model (a swap between the check and the open).
 */

import { constants, type Stats } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Environ } from '../gateway/environ.js';
import type { GatewayApp, GatewayBody } from '../gateway/run-app.js';
import { hexValue } from '../http/chars.js';
import { parseHttpDate } from '../http/dates.js';
import { matchesAnyTag, parseEntityTags } from '../http/entity-tags.js';
import { parseRange } from '../http/ranges.js';
import { contentTypeFor } from './mime.js';
import type { ResponseHeaders, StartResponse } from '../gateway/response.js';

/** The options of the `fs` method (Rocket's `app_info`). */
export interface StaticFilesOptions {
  /** The directory whose files are served; a relative path resolves against the working directory now. */
  document_root: string;
  /** List the entries of a directory that has no `index.html`. Default false: such a directory is 404. */
  display_index?: boolean;
}

/** Bytes per read: large enough to keep the socket busy, small enough to bound memory per response. */
const BLOCK_SIZE = 64 * 1024;

/** A FIFO opened for reading would block until a writer appears; O_NONBLOCK makes open return at once. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

const ALLOW: readonly [string, string] = ['Allow', 'GET, HEAD'];
const TEXT = 'text/plain; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

/**
 * A gateway app serving the files under `document_root`: GET and HEAD, conditional requests,
 * single byte ranges, directory redirects, `index.html`, optional listings.
 *
 * @example
 * const app = staticFiles({ document_root: './public', display_index: true });
 * new Rocket(['127.0.0.1', 8000], 'wsgi', { wsgi_app: mount({ '/static': app, '/': site }) });
 */
export function staticFiles(options: StaticFilesOptions): GatewayApp {
  if (options === null || typeof options !== 'object') throw new TypeError('staticFiles needs an options object with a document_root');
  const { document_root: documentRoot, display_index: displayIndex = false } = options;
  if (typeof documentRoot !== 'string' || documentRoot === '') {
    throw new TypeError(`document_root must be a directory path, not ${JSON.stringify(documentRoot)}`);
  }
  // Resolved once, but its realpath is taken per request: a root that is a symlink switched by
  // deploys (`current -> releases/42`) must follow the switch.
  const root = resolve(documentRoot);
  const listing = displayIndex === true;
  return (environ, startResponse) => serveRequest(environ, startResponse, root, listing);
}

async function serveRequest(environ: Environ, startResponse: StartResponse, root: string, listing: boolean): Promise<GatewayBody> {
  const method = environ.REQUEST_METHOD;
  if (method !== 'GET' && method !== 'HEAD') return sendText(startResponse, '405 Method Not Allowed', [ALLOW]);
  const path = parseRequestPath(environ.REQUEST_URI, environ.SCRIPT_NAME);
  if (path === null) return notFound(startResponse);
  try {
    const rootReal = await realpath(root);
    const real = await resolveInside(rootReal, path.segments);
    if (real === null) return notFound(startResponse);
    const stats = await stat(real);
    if (stats.isDirectory()) {
      if (!path.trailingSlash) return redirectToSlash(environ, startResponse, path);
      const body = await serveIndex(environ, startResponse, rootReal, path.segments);
      if (body !== null) return body;
      if (!listing) return notFound(startResponse);
      return await sendListing(startResponse, rootReal, real, path);
    }
    if (!stats.isFile() || path.trailingSlash) return notFound(startResponse);
    const file = await openRegularFile(real);
    if (file === null) return notFound(startResponse);
    // `return await`: a rejection must reach the catch below.
    return await sendFile(environ, startResponse, file.handle, file.stats, path.segments.at(-1) ?? '');
  } catch (error) {
    return sendError(environ, startResponse, error);
  }
}

// ---------------------------------------------------------------------------------------------
// The path

/** A request path that passed every check: what to look up under the document root. */
export interface RequestPath {
  /** Decoded segments below the root (after `SCRIPT_NAME`), none empty, none a dotfile. */
  segments: string[];
  /** The path ended with `/`. */
  trailingSlash: boolean;
  /** The whole decoded path, `SCRIPT_NAME` included, e.g. `/static/sub/` (for listings and redirects). */
  path: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Check and decode the path of a raw request-target. `scriptName` is the mount prefix the app sits
 * under (`SCRIPT_NAME`); it must match the leading segments and is removed.
 *
 * @returns null when the path is refused (see the module comment for the list).
 * @example
 * parseRequestPath('/docs/r%C3%A9sum%C3%A9.pdf?x=1'); // { segments: ['docs', 'résumé.pdf'], trailingSlash: false, path: '/docs/résumé.pdf' }
 * parseRequestPath('/%2e%2e/etc/passwd'); // null
 */
export function parseRequestPath(target: unknown, scriptName: unknown = ''): RequestPath | null {
  if (typeof target !== 'string') return null;
  // Absolute-form (RFC 9112 §3.2.2: a server must accept it): the path after the authority. The
  // server has checked the scheme and host; `*` and anything else is refused.
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (authority !== null) return parseRequestPath(target.slice(authority[0].length) || '/', scriptName);
  if (target.charCodeAt(0) !== 0x2f) return null;
  let end = target.length;
  const query = target.indexOf('?');
  if (query !== -1) end = query;
  const hash = target.indexOf('#');
  if (hash !== -1 && hash < end) end = hash;
  const raw = target.slice(1, end).split('/');
  const decoded: string[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const segment = decodeSegment(raw[i]!);
    // Only the last segment may be empty: that is the trailing slash.
    if (segment === null || (segment === '' && i < raw.length - 1)) return null;
    decoded[i] = segment;
  }
  const trailingSlash = decoded[decoded.length - 1] === '';
  const names = trailingSlash ? decoded.slice(0, -1) : decoded;
  const prefix = typeof scriptName === 'string' ? scriptName.split('/').filter((s) => s !== '') : [];
  if (prefix.length > names.length) return null;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== names[i]) return null;
  const segments = names.slice(prefix.length);
  for (const name of segments) if (!isServableName(name)) return null;
  return { segments, trailingSlash, path: `/${decoded.join('/')}` };
}

/**
 * Percent-decode one segment to text, or null when it holds a malformed escape, a byte that
 * would act as a separator or terminator (`/`, `\`, NUL) or any other control character, or
 * bytes that are not UTF-8 (the fatal decoder refuses overlong forms such as `%C0%AE`).
 */
function decodeSegment(raw: string): string | null {
  const bytes = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    let byte = raw.charCodeAt(i);
    if (byte === 0x25) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      byte = hi * 16 + lo;
      i += 2;
    } else if (byte <= 0x20 || byte > 0x7e) {
      // A request-target is visible ASCII (RFC 3986); the parser refuses the rest, another front
      // end may not.
      return null;
    }
    if (byte < 0x20 || byte === 0x7f || byte === 0x2f || byte === 0x5c) return null;
    bytes[n++] = byte;
  }
  try {
    return strictUtf8.decode(bytes.subarray(0, n));
  } catch {
    return null;
  }
}

/** Not empty, and not a dotfile — which also rules out `.` and `..` — except `.well-known`. */
function isServableName(name: string): boolean {
  return name !== '' && (name.charCodeAt(0) !== 0x2e || name === '.well-known');
}

/**
 * The real path of `segments` under `rootReal`, or null when it lies outside. The segments cannot
 * climb by themselves (see {@link parseRequestPath}); symlinks can, which is what this checks.
 */
async function resolveInside(rootReal: string, segments: readonly string[]): Promise<string | null> {
  const real = await realpath(join(rootReal, ...segments));
  return isInside(rootReal, real) ? real : null;
}

function isInside(rootReal: string, real: string): boolean {
  if (real === rootReal) return true;
  // A root of `/` already ends with the separator.
  return real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

/** Open a regular file; null when it is something else. */
async function openRegularFile(real: string): Promise<{ handle: FileHandle; stats: Stats } | null> {
  const handle = await open(real, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    if (stats.isFile()) return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
  await handle.close();
  return null;
}

// ---------------------------------------------------------------------------------------------
// Files

/** Answer with an open file; `name` (as requested, not as resolved through symlinks) gives the type. */
async function sendFile(environ: Environ, startResponse: StartResponse, handle: FileHandle, stats: Stats, name: string): Promise<GatewayBody> {
  let handedOver = false;
  try {
    const size = stats.size;
    const etag = entityTag(stats);
    const lastModified = new Date(Math.floor(stats.mtimeMs)).toUTCString();
    // RFC 9110 §15.4.5: a 304 carries the validators a 200 would have.
    const validators: [string, string][] = [
      ['ETag', etag],
      ['Last-Modified', lastModified],
    ];
    if (isNotModified(environ, etag, stats.mtimeMs)) {
      startResponse('304 Not Modified', validators);
      return [];
    }
    const headers: [string, string][] = [['Content-Type', contentTypeFor(name)], ['Accept-Ranges', 'bytes'], ...validators];
    let status = '200 OK';
    let start = 0;
    let end = size;
    const rangeField = environ.HTTP_RANGE;
    // RFC 9110 §14.2: GET is the only method range handling is defined for; HEAD ignores Range.
    if (environ.REQUEST_METHOD === 'GET' && typeof rangeField === 'string' && ifRangeHolds(environ.HTTP_IF_RANGE, etag, stats.mtimeMs)) {
      const range = parseRange(rangeField, size);
      if (range === 'unsatisfiable') {
        // RFC 9110 §15.5.17: say how long the representation is.
        startResponse('416 Range Not Satisfiable', [['Content-Range', `bytes */${size}`], ...validators]);
        return [];
      }
      if (range !== null) {
        status = '206 Partial Content';
        start = range.start;
        end = range.end + 1;
        headers.push(['Content-Range', `bytes ${start}-${range.end}/${size}`]);
      }
    }
    // Always a length, so the response is never chunked and a client can tell a cut transfer.
    headers.push(['Content-Length', String(end - start)]);
    startResponse(status, headers);
    if (environ.REQUEST_METHOD === 'HEAD' || end === start) return [];
    handedOver = true;
    return new FileBody(handle, start, end);
  } finally {
    if (!handedOver) await handle.close();
  }
}

/**
 * The body of a file response: `[start, end)` read in {@link BLOCK_SIZE} blocks at explicit
 * positions. A plain iterator rather than an async generator: a generator's `return()` before its
 * first `next()` would skip its `finally`, and the handle must close in every case.
 *
 * @example
 * startResponse('200 OK', [['Content-Length', String(stats.size)]]);
 * return new FileBody(await open(path), 0, stats.size);
 */
export class FileBody implements AsyncIterableIterator<Uint8Array> {
  #handle: FileHandle | null;
  #position: number;
  readonly #end: number;

  constructor(handle: FileHandle, start: number, end: number) {
    this.#handle = handle;
    this.#position = start;
    this.#end = end;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    const handle = this.#handle;
    const left = this.#end - this.#position;
    if (handle === null || left <= 0) return this.return();
    const size = Math.min(BLOCK_SIZE, left);
    // A fresh buffer per block: the previous one may still be queued on the socket.
    const buffer = Buffer.allocUnsafe(size);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, size, this.#position));
    } catch (error) {
      await this.#close();
      throw error;
    }
    // The file shrank since it was measured: end early; the server sees the short body and closes.
    if (bytesRead === 0) return this.return();
    this.#position += bytesRead;
    return { done: false, value: bytesRead === size ? buffer : buffer.subarray(0, bytesRead) };
  }

  /** Close the file; safe to call more than once. */
  async return(): Promise<IteratorReturnResult<undefined>> {
    await this.#close();
    return { done: true, value: undefined };
  }

  /** True once the file is closed. */
  get closed(): boolean {
    return this.#handle === null;
  }

  #close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    return handle === null ? Promise.resolve() : handle.close();
  }
}

/**
 * A validator from size and modification time (to the microsecond), as nginx does: the same on
 * every server holding a copy of the file, unlike one that includes the inode.
 */
function entityTag(stats: Stats): string {
  return `"${Math.floor(stats.mtimeMs * 1000).toString(16)}-${stats.size.toString(16)}"`;
}

// ---------------------------------------------------------------------------------------------
// Conditional requests (RFC 9110 §13)

/** §13.2.2 steps 3 and 4: If-None-Match decides when present; If-Modified-Since only without it. */
function isNotModified(environ: Environ, etag: string, mtimeMs: number): boolean {
  const noneMatch = environ.HTTP_IF_NONE_MATCH;
  if (typeof noneMatch === 'string') return matchesAnyTag(noneMatch, etag);
  const since = environ.HTTP_IF_MODIFIED_SINCE;
  if (typeof since !== 'string') return false;
  const date = parseHttpDate(since);
  // §13.1.3: HTTP dates have one-second resolution; an invalid date is ignored.
  return date !== null && Math.floor(mtimeMs / 1000) * 1000 <= date;
}

/**
 * If-Range (RFC 9110 §13.1.5): absent, or naming the current representation — an entity-tag by
 * strong comparison (a weak tag never matches), or a date equal to Last-Modified. Otherwise the
 * Range is ignored and the whole file sent.
 */
function ifRangeHolds(field: unknown, etag: string, mtimeMs: number): boolean {
  if (typeof field !== 'string') return true;
  const value = field.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    const tags = parseEntityTags(value);
    return Array.isArray(tags) && tags.length === 1 && !tags[0]!.weak && tags[0]!.opaque === etag;
  }
  const date = parseHttpDate(value);
  return date !== null && date === Math.floor(mtimeMs / 1000) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Directories

/**
 * 301 to the same path with a slash. The Location is relative — the last segment plus `/` — so it
 * is right under any mount prefix or proxy path; the segment is re-encoded, so a `:` in it cannot
 * read as a scheme. The query string is kept.
 */
function redirectToSlash(environ: Environ, startResponse: StartResponse, path: RequestPath): GatewayBody {
  const last = path.path.slice(path.path.lastIndexOf('/') + 1);
  const query = environ.QUERY_STRING;
  const location = `${encodeURIComponent(last)}/${typeof query === 'string' && query !== '' ? `?${query}` : ''}`;
  startResponse('301 Moved Permanently', [
    ['Location', location],
    ['Content-Type', TEXT],
  ]);
  return [];
}

/** The directory's `index.html`, when it is a regular file inside the root; else null. */
async function serveIndex(environ: Environ, startResponse: StartResponse, rootReal: string, segments: readonly string[]): Promise<GatewayBody | null> {
  let real: string | null;
  try {
    real = await resolveInside(rootReal, [...segments, 'index.html']);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  if (real === null) return null;
  const file = await openRegularFile(real);
  if (file === null) return null;
  return sendFile(environ, startResponse, file.handle, file.stats, 'index.html');
}

interface ListingEntry {
  name: string;
  isDirectory: boolean;
}

async function sendListing(startResponse: StartResponse, rootReal: string, dirReal: string, path: RequestPath): Promise<GatewayBody> {
  const entries: ListingEntry[] = [];
  for (const dirent of await readdir(dirReal, { withFileTypes: true })) {
    const name = dirent.name;
    // Only what could be requested: no dotfiles, and no name the path checks would refuse (a
    // U+FFFD stands for bytes that were not UTF-8, so the name cannot be spelled in a URL).
    if (!isServableName(name) || /[\u0000-\u001f\u007f\\\ufffd]/.test(name)) continue;
    if (dirent.isDirectory()) entries.push({ name, isDirectory: true });
    else if (dirent.isFile()) entries.push({ name, isDirectory: false });
    else if (dirent.isSymbolicLink()) {
      // Listed when it leads to a file or directory inside the root, as it would be served.
      try {
        const target = await realpath(join(dirReal, name));
        if (!isInside(rootReal, target)) continue;
        const stats = await stat(target);
        if (stats.isDirectory() || stats.isFile()) entries.push({ name, isDirectory: stats.isDirectory() });
      } catch {
        // A dangling or unreadable link is left out.
      }
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const title = escapeHtml(`Index of ${path.path}`);
  let html = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>\n<ul>\n`;
  if (path.segments.length > 0) html += '<li><a href="../">../</a></li>\n';
  for (const { name, isDirectory } of entries) {
    const slash = isDirectory ? '/' : '';
    html += `<li><a href="${escapeHtml(encodeURIComponent(name))}${slash}">${escapeHtml(name)}${slash}</a></li>\n`;
  }
  html += '</ul>\n</body></html>\n';
  const body = Buffer.from(html);
  startResponse('200 OK', [
    ['Content-Type', HTML],
    ['Content-Length', String(body.length)],
  ]);
  return [body];
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text made safe for HTML content and quoted attribute values.
 *
 * @example
 * escapeHtml('<a href="x">'); // '&lt;a href=&quot;x&quot;&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

// ---------------------------------------------------------------------------------------------
// Errors

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A file system error as a response: missing-like errors are 404, permission errors 403, the rest a
 * bare 500 whose details go to `wsgi.errors`, not to the client.
 */
function sendError(environ: Environ, startResponse: StartResponse, error: unknown): GatewayBody {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'EISDIR':
    case 'EINVAL':
      return notFound(startResponse);
    case 'EACCES':
    case 'EPERM':
      return sendText(startResponse, '403 Forbidden');
    default:
      try {
        environ['wsgi.errors'].write(`static files: ${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: ${String(error)}\n`);
      } catch {
        // Logging must not turn a 500 into a crash.
      }
      return sendText(startResponse, '500 Internal Server Error');
  }
}

function notFound(startResponse: StartResponse): GatewayBody {
  return sendText(startResponse, '404 Not Found');
}

/** A short text response whose body is the reason phrase. */
function sendText(startResponse: StartResponse, status: string, headers: ResponseHeaders = []): GatewayBody {
  const body = `${status.slice(4)}\n`;
  startResponse(status, [['Content-Type', TEXT], ['Content-Length', String(body.length)], ...headers]);
  return [body];
}
