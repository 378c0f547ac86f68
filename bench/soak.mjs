#!/usr/bin/env node
/**
 * Soak: a million requests (or --requests N) from concurrent keep-alive clients against a Rocket
 * in a child process, restarting it with SIGHUP every --restart-every requests, and sampling the
 * server's resident memory (RSS, from /proc) as it goes. Every request is counted; the run fails
 * if one is lost, or if RSS at the end is more than --max-growth (default 20 %) above RSS after the
 * warm-up.
 *
 *   npm run build && npm run soak
 *   node bench/soak.mjs --requests 2000000 --concurrency 64 --restart-every 250000
 *
 * Prints a markdown report; bench/SOAK.md holds the last recorded one.
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startLoad } from '../test/helpers/load.mjs';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '32' },
    'restart-every': { type: 'string', default: '250000' },
    'sample-every': { type: 'string', default: '50000' },
    warmup: { type: 'string', default: '100000' },
    'max-growth': { type: 'string', default: '0.2' },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const restartEvery = Number(values['restart-every']);
const sampleEvery = Number(values['sample-every']);
const warmup = Number(values.warmup);
const maxGrowth = Number(values['max-growth']);

const server = spawn(process.execPath, [new URL('./soak-server.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
server.stdout.on('data', (chunk) => (out += chunk));
const port = await new Promise((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
  const check = () => {
    const match = /ready (\d+)/.exec(out);
    if (match) resolve(Number(match[1]));
    else server.stdout.once('data', check);
  };
  check();
});

/** The server's resident memory in MiB, from /proc. */
function rssMiB() {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

const samples = [];
const started = performance.now();
let nextSample = sampleEvery;
let nextRestart = restartEvery;
let restarts = 0;
const load = startLoad({
  port,
  concurrency,
  requests: total,
  onResponse() {
    const answered = load.counts.ok + load.counts.unavailable + load.counts.other;
    if (answered >= nextSample) {
      nextSample += sampleEvery;
      samples.push({ requests: answered, seconds: (performance.now() - started) / 1000, rss: rssMiB() });
    }
    if (restartEvery > 0 && answered >= nextRestart && answered < total) {
      nextRestart += restartEvery;
      restarts++;
      server.kill('SIGHUP');
    }
  },
});
const counts = await load.done;
const seconds = (performance.now() - started) / 1000;
const finalRss = rssMiB();
server.kill('SIGTERM');
const [code] = await new Promise((resolve) => server.once('exit', (...args) => resolve(args)));

const afterWarmup = samples.find((s) => s.requests >= warmup) ?? samples[0];
const peak = Math.max(...samples.map((s) => s.rss), finalRss);
const growth = (finalRss - afterWarmup.rss) / afterWarmup.rss;
const mib = (n) => n.toFixed(1);
const lines = [
  `# Soak`,
  ``,
  `${new Date().toISOString().slice(0, 10)}, Node.js ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${os.platform()} ${os.release()}.`,
  `Command: \`node bench/soak.mjs --requests ${total} --concurrency ${concurrency} --restart-every ${restartEvery}\``,
  ``,
  `| requests sent | answered 2xx | 503 | other | lost | unaccepted | refused | connections | restarts | seconds | requests/s |`,
  `|---|---|---|---|---|---|---|---|---|---|---|`,
  `| ${counts.sent} | ${counts.ok} | ${counts.unavailable} | ${counts.other} | ${counts.failed} | ${counts.unaccepted} | ${counts.refused} | ${counts.connections} | ${restarts} | ${seconds.toFixed(1)} | ${Math.round(counts.sent / seconds)} |`,
  ``,
  `Server RSS: ${mib(afterWarmup.rss)} MiB after ${afterWarmup.requests} requests (warm-up), ${mib(finalRss)} MiB at the end (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %), peak ${mib(peak)} MiB; the server exited with code ${code}.`,
  ``,
  `| requests | seconds | RSS MiB |`,
  `|---|---|---|`,
  ...samples.map((s) => `| ${s.requests} | ${s.seconds.toFixed(1)} | ${mib(s.rss)} |`),
  ``,
];
process.stdout.write(lines.join('\n'));
const failed = counts.failed > 0 || growth > maxGrowth || code !== 0 || counts.sent < total;
if (failed) process.stderr.write(`soak failed: lost ${counts.failed}, RSS growth ${(growth * 100).toFixed(1)} % (limit ${maxGrowth * 100} %), exit code ${code}\n`);
process.exitCode = failed ? 1 : 0;
