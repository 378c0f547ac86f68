// Koa on node:http (its own listen), for the benchmark's framework rows.
import { koa } from './frameworks.mjs';

await koa(false);
