// The servers under test: one row each. Every script under bench/servers/ serves the routes listed in
// servers/routes.mjs and prints "ready <port>" once it listens. To add a server (Express, Koa or
// Fastify on node:http, or the same frameworks on Rocket), add its script and a row here.
import { fileURLToPath } from 'node:url';

const script = (name) => fileURLToPath(new URL(`../servers/${name}`, import.meta.url));

export const SERVERS = [
  { name: 'node-http', label: 'node:http (http.createServer)', file: script('node-http.mjs'), baseline: true },
  { name: 'rocket', label: 'Rocket core, gateway app', file: script('rocket.mjs') },
  // { name: 'express', label: 'Express on node:http', file: script('express.mjs') },
  // { name: 'express-rocket', label: 'Express on Rocket', file: script('express-rocket.mjs') },
];

/** The generator-ceiling server (no parsing; not in the results table). */
export const RAW_NET = { name: 'raw-net', label: 'raw net, counts \\r\\n\\r\\n', file: script('raw-net.mjs') };

/** The baseline every ratio is taken against. */
export const BASELINE = SERVERS.find((s) => s.baseline).name;
