// What every benchmark server serves, and how it tells the harness it is ready.
//
//   GET  /hello[?…]  "Hello, World!"                          (scenarios 1, 2, 3, 6, 7)
//   POST /echo       the request body, read whole, echoed back  (scenario 4)
//   GET  /stream     64 KiB in 16 chunks of 4 KiB              (scenario 5)
//   GET  /gc         runs global.gc() (node --expose-gc), answers process.memoryUsage() as JSON
//   GET  /count      {"open": N}: connections the server has open (scenario 7 checks none closed)
// Every response is Content-Type: text/plain (JSON ones included; only the harness reads them).

export const HELLO = 'Hello, World!';
export const CHUNK_SIZE = 4096;
export const CHUNK_COUNT = 16;
/** One 4 KiB chunk, built once and sent 16 times per /stream response. */
export const CHUNK = Buffer.alloc(CHUNK_SIZE, 'abcdefghijklmnopqrstuvwxyz0123456789\n');

/** Full GCs, then the memory figures, as JSON. */
export function collectGarbage() {
  const ran = typeof globalThis.gc === 'function';
  if (ran) {
    globalThis.gc();
    globalThis.gc();
  }
  return JSON.stringify({ gc: ran, ...process.memoryUsage() });
}

/** The path without its query string. */
export const pathOf = (target) => {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
};

// A SIGTERM ends a benchmark server through exit(), so that `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0));

/** The line the harness waits for on stdout (instead of sleeping). */
export function ready(port) {
  process.stdout.write(`ready ${port}\n`);
}

/** PORT from the environment; 0 (the default) lets the OS pick a free one. */
export const PORT = Number(process.env.PORT ?? 0);
