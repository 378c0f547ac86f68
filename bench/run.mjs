// `npm run bench`: every scenario against every server, one table, results/latest.json, RESULTS.md.
// Settings: BENCH_DURATION (s per run, 5), BENCH_WARMUP (s, 2), BENCH_RUNS (3),
// BENCH_SCENARIOS=1,2 and BENCH_SERVERS=node-http,rocket to run a subset,
// BENCH_IDLE_CONNECTIONS (10000) for scenario 7.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkRoutes } from './lib/http-check.mjs';
import { measureMemory } from './lib/memory.mjs';
import { HAS_TASKSET, cpuOf, sleep, startServer } from './lib/proc.mjs';
import { machine, markdownTable, median, notes, tableRows, targetRows, writeResults, fmtBytes, fmtMs, fmtRate, fmtUs } from './lib/report.mjs';
import { CEILING, SCENARIOS, settings } from './lib/scenarios.mjs';
import { BASELINE, RAW_NET, SERVERS } from './lib/servers.mjs';
import { ensureWrk, runWrk, wrkVersion } from './lib/wrk.mjs';

const PAUSE_MS = 500; // between runs, so one run's connection teardown does not overlap the next
function pick(all, wanted, key, what) {
  if (wanted === null) return all;
  const unknown = wanted.filter((w) => !all.some((x) => String(x[key]) === String(w)));
  if (unknown.length) throw new Error(`unknown ${what} ${unknown.join(', ')}; known: ${all.map((x) => x[key]).join(', ')}`);
  return all.filter((x) => wanted.some((w) => String(x[key]) === String(w)));
}
let cfg, servers, scenarios;
try {
  cfg = settings();
  servers = pick(SERVERS, cfg.servers, 'name', 'server');
  scenarios = pick(SCENARIOS, cfg.scenarios, 'id', 'scenario');
} catch (error) {
  console.error(`bench: ${error.message}`);
  process.exit(2);
}

if (!existsSync(fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url)))) {
  console.error('packages/core/dist is missing: run `npm run build` first.');
  process.exit(1);
}

const needsWrk = scenarios.some((s) => s.kind === 'wrk');
const wrk = needsWrk ? ensureWrk() : wrkVersion();
if (wrk === null) scenarios = scenarios.filter((s) => s.kind !== 'wrk');

/** The servers that take part in `scenario`. */
const serversFor = (scenario) => servers.filter((s) => s.scenarios === undefined || s.scenarios.includes(scenario.id));

// The plan, and how long it should take.
const wrkScenarios = scenarios.filter((s) => s.kind === 'wrk');
const memory = scenarios.find((s) => s.kind === 'memory');
const perCell = cfg.warmup + cfg.runs * (cfg.duration + PAUSE_MS / 1000);
const estimate =
  (wrkScenarios.length ? CEILING.length * (cfg.warmup + cfg.duration + 1) : 0) +
  wrkScenarios.reduce((sum, scenario) => sum + serversFor(scenario).length * (perCell + 1), 0) +
  (memory ? serversFor(memory).length * (8 + cfg.idleConnections / 2000) : 0);
console.log(`Rocket for Node benchmark — Node ${process.version}, wrk ${wrk ?? '(none)'}, ${machine().cpu} × ${machine().cores}`);
console.log(`servers:   ${servers.map((s) => s.name).join(', ')} (ratios against ${BASELINE})`);
console.log(`scenarios: ${scenarios.map((s) => `${s.id} ${s.name}`).join('; ') || '(none)'}`);
console.log(
  `runs:      ${cfg.warmup} s warm-up + ${cfg.runs} × ${cfg.duration} s per server and scenario; ` +
    `servers on core 0, wrk and clients on core 1${HAS_TASKSET ? '' : ' — taskset unavailable, NOT pinned'}`,
);
console.log(`expected:  about ${Math.ceil(estimate)} s (${(estimate / 60).toFixed(1)} min)\n`);

const results = {
  date: new Date().toISOString(),
  command: `${Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v} `)
    .join('')}npm run bench`,
  machine: machine(),
  node: process.version,
  wrk,
  commit: spawnSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout?.trim() || null,
  pinned: HAS_TASKSET,
  baseline: BASELINE,
  settings: cfg,
  ceiling: null,
  cells: [],
};

/** wrk against the raw net server: what wrk itself can do on one core. */
async function measureCeiling() {
  const proc = await startServer(RAW_NET.file);
  const ceiling = {};
  try {
    for (const c of CEILING) {
      await runWrk(c, proc.port, cfg.warmup);
      ceiling[c.id] = await runWrk(c, proc.port, cfg.duration);
      console.log(`ceiling   ${c.id.padEnd(9)} ${fmtRate(ceiling[c.id].rps)} req/s (${c.name}, raw net server)`);
      await sleep(PAUSE_MS);
    }
  } finally {
    await proc.stop();
  }
  return ceiling;
}

/** One wrk scenario: start every server, check its routes, warm each up, then interleave the runs. */
async function wrkScenario(scenario) {
  const cells = [];
  const live = [];
  for (const server of serversFor(scenario)) {
    const cell = { scenario: scenario.id, scenarioName: scenario.name, kind: 'wrk', server: server.name, runs: [], warnings: [] };
    cells.push(cell);
    try {
      const proc = await startServer(server.file);
      live.push({ server, proc, cell });
      await checkRoutes(proc.port);
    } catch (error) {
      cell.error = error.message;
      console.log(`  ${server.name}: ${error.message}`);
    }
  }
  const running = () => live.filter((l) => !l.cell.error);
  try {
    for (const { proc, cell } of running()) {
      await runWrk(scenario, proc.port, cfg.warmup).catch((e) => (cell.error = `warm-up: ${e.message}`));
    }
    for (let run = 1; run <= cfg.runs; run++) {
      for (const { server, proc, cell } of running()) {
        await sleep(PAUSE_MS);
        try {
          // CPU time of the server process around the run: steadier than req/s on a noisy machine.
          const before = await cpuOf(proc.pid);
          const r = await runWrk(scenario, proc.port, cfg.duration);
          const after = await cpuOf(proc.pid);
          if (r.requests > 0) {
            r.cpuUser = (after.user - before.user) / r.requests;
            r.cpuSystem = (after.system - before.system) / r.requests;
          }
          cell.runs.push(r);
          const errs = r.socketErrors ? Object.entries(r.socketErrors).filter(([, n]) => n > 0) : [];
          if (errs.length) cell.warnings.push(`run ${run}: socket errors ${errs.map(([k, n]) => `${k} ${n}`).join(', ')}`);
          if (r.non2xx) cell.warnings.push(`run ${run}: ${r.non2xx} non-2xx/3xx responses`);
          console.log(
            `  ${server.name.padEnd(10)} run ${run}/${cfg.runs}: ${fmtRate(r.rps)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, ` +
              `CPU ${fmtUs(r.cpuUser)} user + ${fmtUs(r.cpuSystem)} system per request`,
          );
        } catch (error) {
          cell.warnings.push(`run ${run}: ${error.message}`);
          console.log(`  ${server.name.padEnd(10)} run ${run}/${cfg.runs}: FAILED ${error.message}`);
        }
      }
    }
  } finally {
    for (const { proc, cell } of live) {
      if (proc.stderrLines) cell.warnings.push(`${proc.stderrLines} line(s) on stderr, last: ${proc.stderr.at(-1)}`);
      await proc.stop();
    }
  }
  for (const cell of cells) {
    if (cell.error) continue;
    if (cell.runs.length === 0) {
      cell.error = 'every run failed';
      continue;
    }
    const rps = cell.runs.map((r) => r.rps);
    Object.assign(cell, {
      rps: median(rps),
      min: Math.min(...rps),
      max: Math.max(...rps),
      p50: median(cell.runs.map((r) => r.p50)),
      p99: median(cell.runs.map((r) => r.p99)),
      cpuUser: median(cell.runs.map((r) => r.cpuUser)),
      cpuSystem: median(cell.runs.map((r) => r.cpuSystem)),
      cpu: median(cell.runs.map((r) => (r.cpuUser ?? NaN) + (r.cpuSystem ?? NaN)).filter(Number.isFinite)),
    });
    const ceiling = results.ceiling?.[scenario.ceiling]?.rps;
    if (ceiling && cell.rps > 0.8 * ceiling) {
      cell.warnings.push(`${Math.round((100 * cell.rps) / ceiling)}% of the generator's ${scenario.ceiling} ceiling: limited by wrk, not the server`);
    }
  }
  return cells;
}

async function memoryScenario(scenario) {
  const cells = [];
  for (const server of serversFor(scenario)) {
    const cell = { scenario: scenario.id, scenarioName: scenario.name, kind: 'memory', server: server.name };
    try {
      Object.assign(cell, await measureMemory(server, cfg.idleConnections));
      console.log(
        `  ${server.name.padEnd(10)} ${fmtBytes(cell.bytesPerConnection)} per connection ` +
          `(RSS ${(cell.rssBefore / 2 ** 20).toFixed(1)} → ${(cell.rssAfter / 2 ** 20).toFixed(1)} MiB; ` +
          `${cell.connections} opened in ${cell.openMs} ms; open at the end: server ${cell.serverOpen}, client ${cell.clientOpen})`,
      );
    } catch (error) {
      cell.error = error.message;
      console.log(`  ${server.name}: FAILED ${error.message}`);
    }
    cells.push(cell);
  }
  return cells;
}

const started = Date.now();
if (wrkScenarios.length) results.ceiling = await measureCeiling();
for (const scenario of scenarios) {
  console.log(`\nscenario ${scenario.id}: ${scenario.name}${scenario.connections ? ` (-c${scenario.connections})` : ''}`);
  const cells = scenario.kind === 'memory' ? await memoryScenario(scenario) : await wrkScenario(scenario);
  const metric = scenario.kind === 'memory' ? 'bytesPerConnection' : 'rps';
  for (const c of cells) {
    const against = SERVERS.find((s) => s.name === c.server)?.compareWith ?? BASELINE;
    const base = cells.find((b) => b.server === against && !b.error);
    c.ratio = base && !c.error ? c[metric] / base[metric] : null;
    // CPU per request: the baseline's over this one's, so above 1 is better, as for req/s.
    c.cpuRatio = base && !c.error && c.cpu && base.cpu ? base.cpu / c.cpu : null;
    c.ratioAgainst = against;
  }
  results.cells.push(...cells);
}

const table = markdownTable(tableRows(results.cells, BASELINE));
console.log(`\n${table}\n`);
for (const line of notes(results)) console.log(line);
const targets = targetRows(results);
if (targets.length > 0) console.log(`\nTargets:\n${markdownTable(targets)}`);
await writeResults(results, table);
console.log(`\nWrote bench/results/latest.json and bench/RESULTS.md (${Math.round((Date.now() - started) / 1000)} s).`);
