// wrk: install it when missing, run it pinned and bounded in time, parse its report.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCore, runCommand } from './proc.mjs';

const LUA = (name) => fileURLToPath(new URL(`../lua/${name}`, import.meta.url));

/** wrk's version line ("wrk debian/4.1.0-3+b2 [epoll]"), or null when it is not installed. */
export function wrkVersion() {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error) return null;
  const m = `${r.stdout}${r.stderr}`.match(/^wrk (\S+)/m);
  return m ? m[1] : 'unknown';
}

/**
 * Make sure wrk is installed: apt-get install it (non-interactive) when missing.
 * @returns its version, or null (with the reason printed) when it cannot be installed.
 */
export function ensureWrk() {
  const have = wrkVersion();
  if (have !== null) return have;
  console.log('wrk is not installed; installing the Debian package with apt-get …');
  const asRoot = process.getuid?.() === 0;
  const apt = (...args) => {
    const [cmd, argv] = asRoot ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    return spawnSync(cmd, argv, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    }).status === 0;
  };
  const installed = apt('install', '-y', '-q', 'wrk') || (apt('update', '-q') && apt('install', '-y', '-q', 'wrk'));
  const version = installed ? wrkVersion() : null;
  if (version === null) {
    console.log(
      'SKIPPING the wrk scenarios (1–6) and the generator ceiling: wrk could not be installed ' +
        `(${asRoot ? 'apt-get install wrk failed' : 'not root and sudo -n apt-get failed'}). ` +
        'Install it with `sudo apt-get install wrk` and run again.',
    );
  }
  return version;
}

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
const COUNT_UNITS = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** "681.21us" | "2.10ms" | "1.5s" → milliseconds. */
export function parseDuration(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`unrecognised wrk duration "${text}"`);
  return Number(m[1]) * TIME_UNITS[m[2]];
}

/** "72767.60" | "73.12k" | "1.48M" → a number. */
export function parseCount(text) {
  const m = /^([\d.]+)([kKMG]?)$/.exec(text.trim());
  if (!m) throw new Error(`unrecognised wrk count "${text}"`);
  return Number(m[1]) * COUNT_UNITS[m[2]];
}

/**
 * The numbers in a `wrk --latency` report: requests/s, latency percentiles (ms), request count,
 * socket errors and non-2xx/3xx responses.
 */
export function parseWrk(output) {
  const rps = /^Requests\/sec:\s+(\S+)/m.exec(output);
  if (!rps) throw new Error(`no "Requests/sec" in wrk's output:\n${output}`);
  const percentiles = {};
  for (const m of output.matchAll(/^\s+(50|75|90|99)(?:\.\d+)?%\s+(\S+)$/gm)) percentiles[`p${m[1]}`] = parseDuration(m[2]);
  // wrk sometimes prints 0.00us for some percentiles, notably with pipelining (wg/wrk#236, #354).
  // A percentile can't be 0 or lower than a smaller one: treat those as missing rather than plot them.
  let previous = 0;
  for (const key of ['p50', 'p75', 'p90', 'p99']) {
    if (percentiles[key] === undefined) continue;
    if (percentiles[key] <= 0 || percentiles[key] < previous) percentiles[key] = null;
    else previous = percentiles[key];
  }
  const total = /^\s+(\d+) requests in ([\d.]+\w+)/m.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors = socket ? { connect: +socket[1], read: +socket[2], write: +socket[3], timeout: +socket[4] } : null;
  return {
    rps: parseCount(rps[1]),
    p50: percentiles.p50 ?? null,
    p75: percentiles.p75 ?? null,
    p90: percentiles.p90 ?? null,
    p99: percentiles.p99 ?? null,
    requests: total ? Number(total[1]) : null,
    elapsedMs: total ? parseDuration(total[2]) : null,
    socketErrors: errors,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** The wrk arguments of one scenario against `port` for `seconds`. */
export function wrkArgs(scenario, port, seconds) {
  const args = ['-t1', `-c${scenario.connections}`, `-d${seconds}s`, '--timeout', '8s', '--latency'];
  for (const [name, value] of scenario.headers ?? []) args.push('-H', `${name}: ${value}`);
  if (scenario.script) args.push('-s', LUA(scenario.script));
  args.push(`http://127.0.0.1:${port}${scenario.path}`);
  if (scenario.scriptArgs) args.push('--', ...scenario.scriptArgs);
  return args;
}

/** Run wrk on core 1 against `port`; killed if it overruns its duration by 20 s. */
export async function runWrk(scenario, port, seconds) {
  const [cmd, args] = onCore(1, 'wrk', wrkArgs(scenario, port, seconds));
  const r = await runCommand(cmd, args, { timeoutMs: (seconds + 20) * 1000 });
  if (r.timedOut) throw new Error(`wrk did not finish within ${seconds + 20} s`);
  if (r.code !== 0) throw new Error(`wrk exited with ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return parseWrk(r.stdout);
}
