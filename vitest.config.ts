import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts') => fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@rocketserver\/core\/http$/, replacement: src('core', 'http/index.ts') },
      { find: /^@rocketserver\/core$/, replacement: src('core') },
      { find: /^@rocketserver\/adapter-node$/, replacement: src('adapter-node') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    pool: 'forks',
  },
});
