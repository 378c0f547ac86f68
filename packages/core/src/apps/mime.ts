/**
 * Content types by file extension, for the static file server. A short table of what websites
 * actually serve, not the whole IANA registry: anything else is `application/octet-stream`, which
 * browsers download instead of guessing (sniffing) a type for.
 */

/** Textual types get `charset=utf-8`: without it browsers fall back to a locale-dependent charset. */
const UTF8 = '; charset=utf-8';

const TYPES: ReadonlyMap<string, string> = new Map([
  // Text and code
  ['html', `text/html${UTF8}`],
  ['htm', `text/html${UTF8}`],
  ['css', `text/css${UTF8}`],
  // RFC 9239: text/javascript is the one JavaScript type; modules need a JavaScript type to load.
  ['js', `text/javascript${UTF8}`],
  ['mjs', `text/javascript${UTF8}`],
  ['cjs', `text/javascript${UTF8}`],
  ['json', `application/json${UTF8}`],
  // Source maps are JSON (ECMA-426).
  ['map', `application/json${UTF8}`],
  ['webmanifest', `application/manifest+json${UTF8}`],
  ['txt', `text/plain${UTF8}`],
  ['md', `text/markdown${UTF8}`],
  ['csv', `text/csv${UTF8}`],
  ['xml', `application/xml${UTF8}`],
  ['svg', `image/svg+xml${UTF8}`],
  // Images
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['avif', 'image/avif'],
  ['bmp', 'image/bmp'],
  ['ico', 'image/x-icon'],
  // Fonts
  ['woff', 'font/woff'],
  ['woff2', 'font/woff2'],
  ['ttf', 'font/ttf'],
  ['otf', 'font/otf'],
  // Media
  ['mp4', 'video/mp4'],
  ['webm', 'video/webm'],
  ['ogg', 'audio/ogg'],
  ['mp3', 'audio/mpeg'],
  ['wav', 'audio/wav'],
  // Other binaries; WebAssembly.instantiateStreaming insists on this exact type.
  ['wasm', 'application/wasm'],
  ['pdf', 'application/pdf'],
  ['zip', 'application/zip'],
  ['gz', 'application/gzip'],
]);

/** The type for anything not in the table. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The `Content-Type` for a file name, from its extension (case-insensitive).
 *
 * @example
 * contentTypeFor('index.HTML'); // 'text/html; charset=utf-8'
 * contentTypeFor('archive.7z'); // 'application/octet-stream'
 */
export function contentTypeFor(name: string): string {
  const dot = name.lastIndexOf('.');
  // No dot, or only a leading one (a dotfile such as `.htaccess` has no extension).
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return TYPES.get(name.slice(dot + 1).toLowerCase()) ?? DEFAULT_CONTENT_TYPE;
}
