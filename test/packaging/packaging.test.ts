/**
 * The packages as npm publishes them: what each tarball holds (`npm pack --dry-run`, nothing
 * written), their metadata, peer ranges that admit exactly the framework majors the suite tests,
 * and types that resolve for a consumer under each module resolution TypeScript offers.
 */

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, test } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['core', 'adapter-node', 'adapter-express', 'adapter-koa', 'adapter-fastify', 'cherrypy-compat'];

interface Packed {
  name: string;
  files: { path: string }[];
}
let packed: Map<string, Set<string>>;

beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--workspaces', '--ignore-scripts'], { cwd: ROOT, timeout: 60_000 });
  packed = new Map((JSON.parse(stdout) as Packed[]).map((p) => [p.name, new Set(p.files.map((f) => f.path))]));
}, 60_000);

const manifest = (dir: string) => JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Record<string, any>;

test.each(PACKAGES)('packages/%s: the tarball has its README, LICENSE, types and metadata', (dir) => {
  const pkg = manifest(dir);
  const files = packed.get(pkg.name)!;
  expect(files).toBeDefined();
  for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) expect(files, file).toContain(file);
  // Everything `files` names exists, so nothing listed is silently left out.
  for (const entry of pkg.files as string[]) expect(existsSync(join(ROOT, 'packages', dir, entry)), entry).toBe(true);
  expect(pkg.license).toBe('MIT');
  expect(pkg.repository).toMatchObject({ type: 'git', directory: `packages/${dir}` });
  expect(pkg.homepage).toMatch(/^https:\/\//);
  expect(pkg.bugs?.url).toMatch(/^https:\/\//);
  expect(pkg.keywords.length).toBeGreaterThan(0);
  for (const target of Object.values(pkg.exports as Record<string, string | Record<string, string>>)) {
    for (const path of typeof target === 'string' ? [target] : Object.values(target)) expect(files).toContain(posix.normalize(path));
  }
});

test.each(PACKAGES)('packages/%s: every source map in the tarball has its sources in it too', (dir) => {
  const pkg = manifest(dir);
  const files = packed.get(pkg.name)!;
  const maps = [...files].filter((file) => file.endsWith('.map'));
  expect(maps.length).toBeGreaterThan(0);
  for (const map of maps) {
    const { sources, sourcesContent } = JSON.parse(readFileSync(join(ROOT, 'packages', dir, map), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
    sources.forEach((source, i) => {
      if (sourcesContent?.[i] != null) return;
      expect(files, `${map} → ${source}`).toContain(posix.join(posix.dirname(map), source));
    });
  }
});

test('the rocket command is a file of the tarball that exists before the build', () => {
  const pkg = manifest('core');
  const bin = posix.normalize(pkg.bin.rocket);
  expect(bin.startsWith('dist/')).toBe(false);
  expect(packed.get('@rocketserver/core')).toContain(bin);
  expect(readFileSync(join(ROOT, 'packages/core', bin), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
});

test('peer ranges admit exactly the framework majors the suite runs against', () => {
  const major = (name: string) => Number((JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version.split('.')[0]);
  const matrix: Record<string, [dir: string, installed: string[]]> = {
    express: ['adapter-express', ['express', 'express4']],
    koa: ['adapter-koa', ['koa', 'koa2']],
    fastify: ['adapter-fastify', ['fastify', 'fastify4']],
  };
  for (const [framework, [dir, installed]] of Object.entries(matrix)) {
    const range = manifest(dir).peerDependencies[framework] as string;
    // Only caret ranges, whose major is their upper bound.
    expect(range, framework).toMatch(/^\^\d+\.\d+\.\d+( \|\| \^\d+\.\d+\.\d+)*$/);
    const admitted = [...range.matchAll(/\^(\d+)/g)].map((m) => Number(m[1])).sort();
    expect(admitted, framework).toEqual(installed.map(major).sort());
  }
});

test.each(['node10', 'node16'])('a TypeScript consumer on moduleResolution %s gets the types of every entry point', async (resolution) => {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const config = join(dirname(fileURLToPath(import.meta.url)), 'consumer', `tsconfig.${resolution}.json`);
  const result = await run(process.execPath, [tsc, '-p', config], { cwd: ROOT, timeout: 60_000 }).catch((error: { stdout: string }) => error);
  expect(result.stdout).toBe('');
}, 60_000);
