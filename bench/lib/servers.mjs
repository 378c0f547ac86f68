// The servers under test: one row each. Every script under bench/servers/ serves the routes listed in
// servers/routes.mjs and prints "ready <port>" once it listens. To add a server (Express, Koa or
// Fastify on node:http, or the same frameworks on Rocket), add its script and a row here.
import { fileURLToPath } from 'node:url';

const script = (name) => fileURLToPath(new URL(`../servers/${name}`, import.meta.url));

// `compareWith`: the server a row's ratio is taken against (default: the baseline, node:http); a
// framework on Rocket is compared with the same framework on node:http. `scenarios`: the scenarios a
// row takes part in (default: all).
const FRAMEWORK_SCENARIOS = [1, 2, 4];

export const SERVERS = [
  { name: 'node-http', label: 'node:http (http.createServer)', file: script('node-http.mjs'), baseline: true },
  { name: 'rocket', label: 'Rocket core, gateway app', file: script('rocket.mjs') },
  { name: 'node-rocket', label: "node:http's listener on Rocket's createServer()", file: script('node-rocket.mjs'), scenarios: [1, 2, 4, 5, 7] },
  { name: 'express', label: 'Express 5 on node:http', file: script('express.mjs'), scenarios: FRAMEWORK_SCENARIOS },
  { name: 'express-rocket', label: 'Express 5 on Rocket', file: script('express-rocket.mjs'), scenarios: FRAMEWORK_SCENARIOS, compareWith: 'express' },
  { name: 'koa', label: 'Koa 3 on node:http', file: script('koa.mjs'), scenarios: FRAMEWORK_SCENARIOS },
  { name: 'koa-rocket', label: 'Koa 3 on Rocket', file: script('koa-rocket.mjs'), scenarios: FRAMEWORK_SCENARIOS, compareWith: 'koa' },
  { name: 'fastify', label: 'Fastify 5 on node:http', file: script('fastify.mjs'), scenarios: FRAMEWORK_SCENARIOS },
  { name: 'fastify-rocket', label: 'Fastify 5 on Rocket', file: script('fastify-rocket.mjs'), scenarios: FRAMEWORK_SCENARIOS, compareWith: 'fastify' },
];

/** The generator-ceiling server (no parsing; not in the results table). */
export const RAW_NET = { name: 'raw-net', label: 'raw net, counts \\r\\n\\r\\n', file: script('raw-net.mjs') };

/** The baseline every ratio is taken against. */
export const BASELINE = SERVERS.find((s) => s.baseline).name;
