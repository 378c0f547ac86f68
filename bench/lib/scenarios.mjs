// The scenarios, one row each, and the run settings (overridable from the environment).
import { BROWSER_HEADERS, BROWSER_PATH, BROWSER_REQUEST, MINIMAL_REQUEST } from './requests.mjs';

const browser = { path: BROWSER_PATH, headers: BROWSER_HEADERS };

// `ceiling`: which generator ceiling (below) a scenario's result is compared with, for the warning
// that a result is close to what wrk itself can do; the hello scenarios only.
export const SCENARIOS = [
  { id: 1, kind: 'wrk', name: 'hello, minimal request', path: '/hello', connections: 50, ceiling: 'plain' },
  { id: 2, kind: 'wrk', name: `hello, browser request (${BROWSER_REQUEST.length} B)`, ...browser, connections: 50, ceiling: 'plain' },
  { id: 3, kind: 'wrk', name: 'browser request, pipelined ×16', ...browser, connections: 50, script: 'pipeline.lua', scriptArgs: ['16'], ceiling: 'pipelined' },
  { id: 4, kind: 'wrk', name: 'POST /echo, 1 KiB body', path: '/echo', connections: 50, script: 'post-echo.lua' },
  { id: 5, kind: 'wrk', name: 'GET /stream, 64 KiB in 4 KiB chunks', path: '/stream', connections: 50 },
  { id: 6, kind: 'wrk', name: 'hello, 256 connections', path: '/hello', connections: 256, ceiling: 'plain' },
  { id: 7, kind: 'memory', name: 'memory per idle keep-alive connection' },
];

/** The generator's ceiling against raw-net: scenario 1's request, and scenario 3's (pipelined). */
export const CEILING = [
  { id: 'plain', kind: 'wrk', name: 'minimal request', path: '/hello', connections: 50 },
  { id: 'pipelined', kind: 'wrk', name: 'browser request ×16', ...browser, connections: 50, script: 'pipeline.lua', scriptArgs: ['16'] },
];

export { MINIMAL_REQUEST, BROWSER_REQUEST };

const num = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return n;
};
const list = (name) =>
  process.env[name]
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? null;

/** Settings from BENCH_* environment variables. */
export function settings() {
  return {
    duration: num('BENCH_DURATION', 5), // seconds measured per run
    warmup: num('BENCH_WARMUP', 2), // seconds of warm-up per server and scenario (not counted)
    runs: Math.round(num('BENCH_RUNS', 3)), // runs per cell; the table shows the median
    idleConnections: Math.round(num('BENCH_IDLE_CONNECTIONS', 10_000)), // scenario 7
    scenarios: list('BENCH_SCENARIOS')?.map(Number) ?? null, // e.g. 1,2
    servers: list('BENCH_SERVERS'), // e.g. node-http,rocket
  };
}
