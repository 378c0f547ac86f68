/**
 * Real nginx and HAProxy for tests: each started as the current user with a generated config in a
 * temporary folder, listening on a loopback port, and stopped by the returned function. The
 * configurations are the README's "Deploying" ones, with the ports filled in.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A port free on 127.0.0.1 now (the system's choice for port 0, released again). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts connections on `port`; rejects after `ms` or when `child` exits. */
export function whenListening(port: number, child: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    let done = false;
    const onExit = (code: number | null) => finish(new Error(`exited (${code}) before listening on ${port}`));
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.once('exit', onExit);
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        finish();
      });
      socket.once('error', () => {
        if (done) return;
        if (Date.now() > deadline) finish(new Error(`nothing listens on ${port} after ${ms} ms`));
        // Retried when the refusal arrives: each attempt is a full round trip, not a fixed wait.
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

export interface RunningProxy {
  port: number;
  stderr: () => string;
  stop(): Promise<void>;
}

function run(command: string, args: string[], port: number, dir: string): Promise<RunningProxy> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return whenListening(port, child).then(
    () => ({ port, stderr: () => stderr, stop }),
    async (error: Error) => {
      await stop();
      throw new Error(`${command}: ${error.message}\n${stderr}`);
    },
  );
}

/** nginx in the foreground, everything it writes kept in `dir`. `server` is the README's server block. */
export async function startNginx(serverBlock: (port: number) => string): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'rocket-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const user = userInfo();
  const conf = `
daemon off;
${user.uid === 0 ? 'user root root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${serverBlock(port)}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  return run('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], port, dir);
}

/** HAProxy in the foreground (-db) with the README's configuration. */
export async function startHaproxy(config: (port: number) => string): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'rocket-haproxy-'));
  const port = await freePort();
  writeFileSync(join(dir, 'haproxy.cfg'), config(port));
  return run('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db'], port, dir);
}
