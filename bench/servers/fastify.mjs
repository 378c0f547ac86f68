// Fastify on node:http (its own listen), for the benchmark's framework rows.
import { fastify } from './frameworks.mjs';

await fastify(false);
