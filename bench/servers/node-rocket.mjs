// The node:http baseline's own listener, unchanged, on Rocket's createServer().
import { createServer } from '@rocketserver/adapter-node';
import { serve } from './listener.mjs';

serve(createServer);
