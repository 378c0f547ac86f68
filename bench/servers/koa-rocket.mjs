// Koa on Rocket (through its adapter), for the benchmark's framework rows.
import { koa } from './frameworks.mjs';

await koa(true);
