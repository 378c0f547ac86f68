// The baseline: node:http's http.createServer, idiomatic writeHead + end.
import http from 'node:http';
import { serve } from './listener.mjs';

serve(http.createServer);
