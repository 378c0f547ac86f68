// The packages as a user gets them from npm: the `npm pack` tarballs of core, adapter-node and
// adapter-express installed into an empty folder with Express, then `npx rocket ./app.js` serves
// an Express app, and the types resolve for a TypeScript consumer on the oldest module resolution.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, fetchText, NO_REGISTRY, start } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rocket-pack-'));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 }).toString();

try {
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  npm(['pack', '--loglevel=warn', '--pack-destination', tarballs, '-w', '@rocketserver/core', '-w', '@rocketserver/adapter-node', '-w', '@rocketserver/adapter-express'], root);
  const packed = readdirSync(tarballs).map((file) => join(tarballs, file));
  console.log(`packed: ${readdirSync(tarballs).join(', ')}`);

  const app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'express-on-rocket', private: true, type: 'module' }, null, 2)}\n`);
  writeFileSync(
    join(app, 'app.js'),
    "import express from 'express';\n\nconst app = express();\napp.get('/hello', (req, res) => res.send(`Express on Rocket: ${req.method} ${req.url}`));\nexport default app;\n",
  );
  // Express comes from the registry; the packages only from the tarballs.
  npm(['install', '--loglevel=warn', '--no-audit', '--no-fund', ...packed, 'express@5'], app);

  const rocket = start('npx rocket ./app.js -p 0', { cwd: app, env: NO_REGISTRY });
  try {
    const [, url] = await rocket.waitFor(/serving Express app \.\/app\.js on (http:\/\/127\.0\.0\.1:\d+\/)/);
    const page = await fetchText(`${url}hello`);
    check(page.status === 200 && page.text === 'Express on Rocket: GET /hello', `${url}hello answered ${page.status}: ${page.text.slice(0, 200)}`);
    const { code, signal, clean } = await rocket.interrupt();
    check(clean, `Ctrl-C: exit ${code ?? signal}, not a clean stop`);
  } finally {
    rocket.kill();
  }
  console.log('npx rocket ./app.js served the Express app from the installed tarballs');

  // Types, from the tarballs, for a consumer on moduleResolution node10 (no `exports` support).
  writeFileSync(
    join(app, 'consumer.ts'),
    [
      "import { Rocket } from '@rocketserver/core';",
      "import { statusText } from '@rocketserver/core/http';",
      "import { createServer } from '@rocketserver/adapter-node';",
      "import { listen } from '@rocketserver/adapter-express';",
      'export const uses = [Rocket, statusText, createServer, listen];',
      '',
    ].join('\n'),
  );
  const compilerOptions = {
    module: 'esnext',
    moduleResolution: 'node10',
    target: 'ES2022',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }, null, 2));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], { stdio: 'inherit', timeout: 120_000 });
  console.log('the installed packages type-check on moduleResolution node10');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
