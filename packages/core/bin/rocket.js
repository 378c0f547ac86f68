#!/usr/bin/env node
// The `rocket` command. npm links a package's commands when it installs it, and only those whose
// file exists then: this file is committed, so the link is made on a fresh `npm ci`, before any
// build; the command itself is the compiled dist/cli.js.
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
try {
  await import(cli.href);
} catch (error) {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(fileURLToPath(cli));
  if (!missing) throw error;
  process.stderr.write(`rocket: ${fileURLToPath(cli)} is missing: build the packages first (npm run build)\n`);
  process.exitCode = 1;
}
