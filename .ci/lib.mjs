// What the CI checks share: run a command in a process group of its own, wait for a line of its
// output, stop it as Ctrl-C would, all bounded in time.
import { spawn } from 'node:child_process';

/** An npm registry nobody listens on: a command that tries to reach the registry fails at once. */
export const NO_REGISTRY = { npm_config_registry: 'http://127.0.0.1:9/', npm_config_yes: 'false' };

export function start(command, { cwd, env = {} }) {
  console.log(`$ ${command}`);
  const child = spawn(command, { cwd, shell: true, detached: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set();
  const take = (chunk) => {
    process.stdout.write(chunk);
    out += chunk;
    for (const waiter of waiters) waiter();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    /** The first match of `pattern` in the output, once it appears. */
    async waitFor(pattern, ms = 30_000) {
      let timer;
      try {
        return await new Promise((resolve, reject) => {
          const check = () => {
            const match = pattern.exec(out);
            if (match !== null) resolve(match);
          };
          waiters.add(check);
          check();
          timer = setTimeout(() => reject(new Error(`no ${pattern} in the output within ${ms / 1000} s`)), ms);
          exited.then(({ code }) => reject(new Error(`exited (${code}) before printing ${pattern}`)));
        });
      } finally {
        clearTimeout(timer);
      }
    },
    /**
     * Ctrl-C to the whole group, as a terminal sends it, then the exit status. npx passes on how
     * its command ended, but npm ends itself by the signal it received: SIGINT counts as clean
     * when the output shows the server stopping and no stack.
     */
    async interrupt(ms = 30_000) {
      process.kill(-child.pid, 'SIGINT');
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => {
          process.kill(-child.pid, 'SIGKILL');
          reject(new Error(`still running ${ms / 1000} s after Ctrl-C`));
        }, ms);
      });
      try {
        const { code, signal } = await Promise.race([exited, late]);
        const clean = (code === 0 || signal === 'SIGINT') && /Stopping Rocket/.test(out) && !/^\s+at /m.test(out);
        return { code, signal, clean };
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

export async function fetchText(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}
