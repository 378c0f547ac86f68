// Express on Rocket (through its adapter), for the benchmark's framework rows.
import { express } from './frameworks.mjs';

await express(true);
