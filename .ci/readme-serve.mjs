// The README's serve command, as a new user runs it from a fresh clone after `npm ci` and
// `npm test`: it must start Rocket from the workspace, never fetch a `rocket` from the registry,
// serve the demo page, and end cleanly on Ctrl-C.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check, fetchText, NO_REGISTRY, start } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const runIt = readme.slice(readme.indexOf('## Run it'));
const command = /```sh\n(npx rocket [^\n]*)\n```/.exec(runIt)?.[1];
check(command !== undefined, "README: no `npx rocket …` command under 'Run it'");

// The last -p wins: port 0 keeps the check clear of anything already on the README's port.
const rocket = start(`${command} -p 0`, { cwd: root, env: NO_REGISTRY });
try {
  const [, url] = await rocket.waitFor(/serving Rocket's demo page on (http:\/\/127\.0\.0\.1:\d+\/)/);
  const page = await fetchText(url);
  check(page.status === 200 && page.text.includes('Hello from Rocket Web Server'), `${url} answered ${page.status}: ${page.text.slice(0, 200)}`);
  const { code, signal, clean } = await rocket.interrupt();
  check(clean, `Ctrl-C: exit ${code ?? signal}, not a clean stop`);
  console.log(`README serve command: ${url} served the demo page; Ctrl-C stopped it`);
} finally {
  rocket.kill();
}
