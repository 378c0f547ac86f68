// Fastify on Rocket (through its adapter), for the benchmark's framework rows.
import { fastify } from './frameworks.mjs';

await fastify(true);
