// Express on node:http (its own listen), for the benchmark's framework rows.
import { express } from './frameworks.mjs';

await express(false);
