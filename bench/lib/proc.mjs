// Child processes for the harness: pinned to a core with taskset, bounded in time, never left behind.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const live = new Set();
function killAll() {
  for (const child of live) child.kill('SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Whether `taskset` works here; without it everything runs unpinned (and the harness says so). */
export const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** [command, args] that run `cmd args…` on one CPU core (taskset execs, so the pid is the command's). */
export function onCore(core, cmd, args) {
  return HAS_TASKSET ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A long-running child whose stdout is read line by line.
 * `waitForLine(re, ms)` resolves with the first matching line's match (or rejects on timeout or exit);
 * `stop(ms)` sends SIGTERM, then SIGKILL if it has not exited after `ms`.
 */
export function startProcess(cmd, args, { env, cwd } = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const proc = { child, pid: child.pid, stderr: [], stderrLines: 0, exitCode: undefined };
  const waiters = new Set();
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      proc.exitCode = code ?? signal;
      for (const w of waiters) w.reject(new Error(`${cmd} ${args.join(' ')} exited (${proc.exitCode}) ${proc.stderr.slice(-5).join(' | ')}`));
      resolve(proc.exitCode);
    });
  });
  child.on('error', () => {});
  child.stdin.on('error', () => {}); // EPIPE when it has exited already
  createInterface({ input: child.stdout }).on('line', (line) => {
    for (const w of waiters) {
      const m = line.match(w.re);
      if (m) w.resolve(m);
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    proc.stderrLines++;
    proc.stderr.push(line);
    if (proc.stderr.length > 20) proc.stderr.shift();
  });
  proc.exited = exited;
  proc.send = (line) => {
    if (proc.exitCode === undefined) child.stdin.write(`${line}\n`);
  };
  proc.waitForLine = (re, ms) =>
    new Promise((resolve, reject) => {
      if (proc.exitCode !== undefined) return reject(new Error(`${cmd} has exited (${proc.exitCode})`));
      const w = {
        re,
        resolve: (m) => done(() => resolve(m)),
        reject: (e) => done(() => reject(e)),
      };
      const timer = setTimeout(() => w.reject(new Error(`no line matching ${re} from ${cmd} within ${ms} ms`)), ms);
      const done = (f) => {
        clearTimeout(timer);
        waiters.delete(w);
        f();
      };
      waiters.add(w);
    });
  proc.stop = async (ms = 3000) => {
    if (proc.exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  };
  return proc;
}

/** Run a command to completion, killed after `timeoutMs`; resolves with its output and status. */
export function runCommand(cmd, args, { timeoutMs, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr, timedOut });
    };
    child.on('error', (error) => {
      stderr += String(error);
      finish(-1);
    });
    child.on('close', (code, signal) => finish(code ?? signal));
  });
}

/** Start a benchmark server script on `core`; resolves once it printed "ready <port>". */
export async function startServer(file, { core = 0, nodeArgs = [], readyTimeoutMs = 15_000 } = {}) {
  const [cmd, args] = onCore(core, process.execPath, [...nodeArgs, file]);
  const proc = startProcess(cmd, args, { env: { PORT: '0' } });
  try {
    const m = await proc.waitForLine(/^ready (\d+)$/, readyTimeoutMs);
    proc.port = Number(m[1]);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

/** A process's resident set size in bytes, from /proc/<pid>/status (VmRSS). */
export async function rssOf(pid) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/^VmRSS:\s+(\d+) kB$/m);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux unless `getconf CLK_TCK` says otherwise). */
const CLK_TCK = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim();
  const n = Number(out);
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** A process's CPU time so far, in microseconds of user and system time (fields 14 and 15 of /proc/<pid>/stat). */
export async function cpuOf(pid) {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name in field 2 may hold spaces; the fields after it are separated by single spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1e6) / CLK_TCK, system: (Number(fields[12]) * 1e6) / CLK_TCK };
}
