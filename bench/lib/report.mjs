// Turning measurements into the table, bench/results/latest.json and bench/RESULTS.md.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('..', import.meta.url));

/** The median of the values that are numbers (null/undefined are left out); null when none are. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** CPU model (from /proc/cpuinfo) and core count. */
export function machine() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  let cores = os.cpus().length;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? model;
    cores = info.match(/^processor\s*:/gm)?.length ?? cores;
  } catch {}
  return { cpu: model, cores, kernel: os.release() };
}

export const fmtRate = (n) =>
  n == null ? '—' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k` : n.toFixed(0);

export const fmtMs = (ms) =>
  ms == null ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;

export const fmtUs = (us) => (us == null || !Number.isFinite(us) ? '—' : `${us.toFixed(1)} µs`);

export const fmtBytes = (b) => (b == null ? '—' : `${Math.round(b).toLocaleString('en-US')} B`);

const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`);

/** One table row per scenario and server (see run.mjs for the shape of a cell). */
export function tableRows(cells, baselineLabel) {
  return cells.map((c) => {
    let result;
    if (c.error) result = `failed: ${c.error}`;
    else if (c.kind === 'memory') result = `${fmtBytes(c.bytesPerConnection)} / conn${c.problems?.length ? ' !' : ''}`;
    else {
      const range = c.runs.length > 1 ? ` [${fmtRate(c.min)}–${fmtRate(c.max)}]` : '';
      result = `${fmtRate(c.rps)}${range}${c.warnings?.length ? ' !' : ''}`;
    }
    return {
      '#': String(c.scenario),
      scenario: c.scenarioName,
      server: c.server,
      'req/s median [min–max] (7: RSS/conn)': result,
      p50: c.kind === 'memory' || c.error ? '—' : fmtMs(c.p50),
      p99: c.kind === 'memory' || c.error ? '—' : fmtMs(c.p99),
      'CPU/req user+sys': c.kind === 'memory' || c.error ? '—' : `${fmtUs(c.cpuUser)} + ${fmtUs(c.cpuSystem)}`,
      [`× ${baselineLabel} (or the framework on it)`]: `${fmtRatio(c.ratio)}${c.ratioAgainst && c.ratioAgainst !== baselineLabel ? ` vs ${c.ratioAgainst}` : ''}`,
      '× by CPU/req': c.kind === 'memory' || c.error ? '—' : fmtRatio(c.cpuRatio),
    };
  });
}

/** A Markdown table with padded columns, readable both in a terminal and rendered. */
export function markdownTable(rows) {
  if (rows.length === 0) return '(no results)';
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells) => `| ${cells.map((cell, i) => cell.padEnd(width[i])).join(' | ')} |`;
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

/** Lines explaining the table: settings, ceilings, and every warning. */
export function notes(results) {
  const s = results.settings;
  const lines = [
    `Each server runs in its own process on core 0 (\`taskset -c 0\`), wrk on core 1 (\`taskset -c 1 wrk -t1\`)${results.pinned ? '' : ' — NOT PINNED: taskset was unavailable'}.`,
    `Per scenario, every server is started (only the one under load does any work), checked to answer each route correctly, warmed up for ${s.warmup} s (not counted), then measured ${s.runs} time(s) × ${s.duration} s, the servers taking turns run by run; the table shows the median [min–max] of requests/s and the median p50/p99 latency. wrk \`-t1 -c50\` unless stated.`,
    `"× ${results.baseline}" is the ratio to ${results.baseline} in the same scenario of the same invocation (req/s: higher is better; memory: lower is better).`,
    `"CPU/req" is the server process's user + system CPU time (/proc/<pid>/stat) over a run divided by the requests wrk completed, the median of the runs; "× by CPU/req" is the baseline's CPU/req over this server's (higher is better). On a noisy machine it is steadier than req/s.`,
    'Scenario 3 latencies are per batch of 16 pipelined requests (wrk times the batch), so they are not comparable with the others. ' +
      '"—" for a latency: wrk printed 0 for that percentile, a known wrk fault with pipelining (wg/wrk#236, #354).',
    `Scenario 7: server RSS (VmRSS) after opening ${s.idleConnections.toLocaleString('en-US')} idle keep-alive connections (each served one GET /hello) minus RSS before, divided by the count, both after a full GC (\`--expose-gc\`).`,
  ];
  if (results.ceiling) {
    const c = results.ceiling;
    lines.push(
      `Generator ceiling (wrk against a raw \`net\` server that does no parsing): ${fmtRate(c.plain?.rps)} req/s plain (minimal request, -c50), ` +
        `${fmtRate(c.pipelined?.rps)} req/s pipelined ×16 (browser request). A result near these measures wrk, not the server.`,
    );
  }
  for (const c of results.cells) {
    for (const w of [...(c.warnings ?? []), ...(c.problems ?? [])]) lines.push(`! scenario ${c.scenario}, ${c.server}: ${w}`);
  }
  return lines;
}

/**
 * The project's performance targets, as ratios to the baseline measured in the same run: at least
 * this much throughput (at most, for memory), and for scenarios 1–2 a p99 no worse.
 */
export const TARGETS = [
  { scenario: 1, server: 'rocket', ratio: 1.8, p99: true },
  { scenario: 2, server: 'rocket', ratio: 1.6, p99: true },
  { scenario: 3, server: 'rocket', ratio: 3 },
  { scenario: 4, server: 'rocket', ratio: 1.3 },
  { scenario: 5, server: 'rocket', ratio: 1.3 },
  { scenario: 6, server: 'rocket', ratio: 1.3 },
  { scenario: 7, server: 'rocket', ratio: 1, atMost: true },
  // A plain (req, res) listener on createServer(), through the Node bridge.
  { scenario: 1, server: 'node-rocket', ratio: 1.25, cpu: true },
  { scenario: 2, server: 'node-rocket', ratio: 1.25, cpu: true },
  { scenario: 4, server: 'node-rocket', ratio: 1.1, cpu: true },
  { scenario: 5, server: 'node-rocket', ratio: 1.1, cpu: true },
  { scenario: 7, server: 'node-rocket', ratio: 1, atMost: true },
  // The frameworks on Rocket against themselves on node:http.
  ...[
    ['fastify', 1.15],
    ['koa', 1.15],
    ['express', 1.05],
  ].flatMap(([framework, ratio]) => [1, 2, 4].map((scenario) => ({ scenario, server: `${framework}-rocket`, ratio, cpu: true }))),
];

/** One row per target: what it asks, what this run measured, and whether it is met. */
export function targetRows(results) {
  const rows = [];
  for (const t of TARGETS) {
    const cell = results.cells.find((c) => c.scenario === t.scenario && c.server === t.server);
    const base = results.cells.find((c) => c.scenario === t.scenario && c.server === (cell?.ratioAgainst ?? results.baseline));
    if (cell === undefined || cell.error || cell.ratio == null) continue;
    const ratioMet = t.atMost ? cell.ratio <= t.ratio : cell.ratio >= t.ratio;
    const p99Met = !t.p99 || (base !== undefined && cell.p99 <= base.p99);
    // Held on CPU time per request too: the same ratio, by the steadier measure.
    const cpuMet = !t.cpu || (cell.cpuRatio != null && cell.cpuRatio >= t.ratio);
    rows.push({
      '#': String(t.scenario),
      server: t.server,
      target: `${t.atMost ? '≤' : '≥'} ${t.ratio}× ${cell.ratioAgainst ?? results.baseline}${t.p99 ? `, p99 ≤ its` : ''}${t.cpu ? ', by req/s and by CPU/req' : ''}`,
      measured: `${fmtRatio(cell.ratio)}${t.p99 ? `, p99 ${fmtMs(cell.p99)} vs ${base ? fmtMs(base.p99) : '—'}` : ''}${t.cpu ? `; CPU ${fmtRatio(cell.cpuRatio)}` : ''}`,
      met: ratioMet && p99Met && cpuMet ? 'yes' : 'no',
    });
  }
  return rows;
}

/** Write bench/results/latest.json and rewrite bench/RESULTS.md. */
export async function writeResults(results, table) {
  await mkdir(`${BENCH}results`, { recursive: true });
  await writeFile(`${BENCH}results/latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  const m = results.machine;
  const md = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` (bench/run.mjs) on ${results.date}; each run rewrites this file.`,
    `Raw numbers: \`bench/results/latest.json\` (not committed).`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores (Linux ${m.kernel})`,
    `- Node.js ${results.node}, wrk ${results.wrk ?? '(not installed)'}, project at \`${results.commit ?? 'unknown commit'}\``,
    `- Command: \`${results.command}\``,
    '',
    table,
    '',
    ...notes(results).map((n) => `- ${n}`),
    '',
    '## Targets',
    '',
    markdownTable(targetRows(results)),
    '',
    'Where a target is not met, [PROFILE.md](PROFILE.md) shows where the time goes.',
    '',
  ].join('\n');
  await writeFile(`${BENCH}RESULTS.md`, md);
}
