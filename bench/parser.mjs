// `npm run bench:parser`: Rocket's request-head parser alone, in process, no sockets. Parses the
// minimal and the browser request, one per buffer and 16 pipelined in one buffer, then the same
// again with buildEnviron() after each parse. Pinned to core 0 (it re-runs itself under taskset).
// BENCH_PARSER_REQUESTS (300000) requests are timed per round; 3 rounds, the median is shown.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { machine, median } from './lib/report.mjs';
import { BROWSER_REQUEST, MINIMAL_REQUEST } from './lib/requests.mjs';

const self = fileURLToPath(import.meta.url);
if (process.env.BENCH_PARSER_PINNED === undefined) {
  const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  if (pin) {
    const r = spawnSync('taskset', ['-c', '0', process.execPath, self], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PARSER_PINNED: '1' },
    });
    process.exit(r.status ?? 1);
  }
  console.log('taskset is unavailable: running unpinned.');
}

const dist = new URL('../packages/core/dist/', import.meta.url);
if (!existsSync(new URL('http/request-head.js', dist))) {
  console.error('packages/core/dist is missing: run `npm run build` first.');
  process.exit(1);
}
const { parseRequestHead, HeadScan } = await import(new URL('http/request-head.js', dist).href);
const { buildEnviron } = await import(new URL('gateway/environ.js', dist).href);

const LIMITS = { maxRequestLine: 8192, maxHeaderSize: 16384, maxHeaders: 100 };
const REQUESTS = Math.round(Number(process.env.BENCH_PARSER_REQUESTS ?? 300_000));
const ROUNDS = 3;

// What buildEnviron needs besides the head: facts about a connection and the server, and a body.
const CONN = { id: 1, remoteAddress: '127.0.0.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 8080, serverPort: 8080, secure: false, tls: null };
const SERVER = {
  serverName: 'localhost',
  serverSoftware: 'Rocket/bench',
  multithread: true,
  multiprocess: false,
  errors: { write() {}, writelines() {}, flush() {} },
  fileWrapper: () => null,
};
const INPUT = { read: async () => Buffer.alloc(0), readline: async () => Buffer.alloc(0), readlines: async () => [], async *[Symbol.asyncIterator]() {} };

const CASES = [
  { name: 'minimal request', request: MINIMAL_REQUEST, depth: 1 },
  { name: 'minimal request ×16 pipelined', request: MINIMAL_REQUEST, depth: 16 },
  { name: 'browser request', request: BROWSER_REQUEST, depth: 1 },
  { name: 'browser request ×16 pipelined', request: BROWSER_REQUEST, depth: 16 },
];

let sink = 0; // results feed this so the work cannot be optimised away

/** Parse every request in `buf` (back to back), `environ` → also build each one's environ. */
function parseAll(buf, scan, environ) {
  let offset = 0;
  let parsed = 0;
  while (offset < buf.length) {
    scan.reset();
    const head = parseRequestHead(buf, offset, buf.length, LIMITS, scan);
    if (head === null) throw new Error(`incomplete head at offset ${offset}`);
    offset += head.size;
    parsed++;
    if (environ) sink += buildEnviron(head, CONN, SERVER, INPUT).PATH_INFO.length;
    else sink += head.rawHeaders.length;
  }
  return parsed;
}

/** Check once that the buffer parses to what it should, so a broken parse is not timed. */
function verify(c, buf) {
  const scan = new HeadScan();
  const head = parseRequestHead(buf, 0, buf.length, LIMITS, scan);
  const env = buildEnviron(head, CONN, SERVER, INPUT);
  if (head.size !== c.request.length || head.method !== 'GET' || env.PATH_INFO !== '/hello') {
    throw new Error(`${c.name}: unexpected parse (size ${head.size}, ${head.method} ${env.PATH_INFO})`);
  }
  if (parseAll(buf, scan, false) !== c.depth) throw new Error(`${c.name}: did not parse ${c.depth} requests`);
}

/** ns per request: warm up, then time ROUNDS rounds of REQUESTS requests; median. */
function time(buf, depth, environ) {
  const scan = new HeadScan();
  const iterations = Math.ceil(REQUESTS / depth);
  for (let i = 0; i < Math.ceil(iterations / 2); i++) parseAll(buf, scan, environ);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) parseAll(buf, scan, environ);
    rounds.push(Number(process.hrtime.bigint() - t0) / (iterations * depth));
  }
  return { ns: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds) };
}

const m = machine();
console.log(`Rocket parser micro-benchmark — Node ${process.version}, ${m.cpu} × ${m.cores}, pinned: ${process.env.BENCH_PARSER_PINNED === '1'}`);
console.log(`parseRequestHead (+ buildEnviron): ${REQUESTS.toLocaleString('en-US')} requests per round, ${ROUNDS} rounds after a warm-up; median\n`);

const rows = [];
const results = [];
for (const c of CASES) {
  const buf = Buffer.concat(Array(c.depth).fill(c.request));
  verify(c, buf);
  const parse = time(buf, c.depth, false);
  const env = time(buf, c.depth, true);
  const rate = (ns) => `${(1e3 / ns).toFixed(2)}M req/s`;
  const mbps = (ns) => `${((c.request.length / ns) * 1e3).toFixed(0)} MB/s`;
  results.push({ case: c.name, bytes: c.request.length, depth: c.depth, parse, parseAndEnviron: env });
  rows.push([
    c.name,
    `${c.request.length} B`,
    `${(parse.ns / 1e3).toFixed(3)} µs`,
    rate(parse.ns),
    mbps(parse.ns),
    `${(env.ns / 1e3).toFixed(3)} µs`,
    rate(env.ns),
    mbps(env.ns),
  ]);
}

const head = ['request', 'size', 'parse/req', 'parse req/s', 'parse bytes/s', '+environ/req', '+environ req/s', '+environ bytes/s'];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((cell, i) => cell.padEnd(width[i])).join(' | ')} |`;
console.log([line(head), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
console.log('\nMB/s = 10^6 bytes of request head per second. "+environ" = parseRequestHead then buildEnviron for each request.');

await mkdir(new URL('results/', import.meta.url), { recursive: true });
await writeFile(
  new URL('results/parser.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, machine: m, requests: REQUESTS, rounds: ROUNDS, results, sink }, null, 2)}\n`,
);
console.log('Wrote bench/results/parser.json.');
