// The plain `(req, res)` listener of the node:http baseline, served either by node:http's
// http.createServer or by Rocket's createServer() from @rocketserver/adapter-node.
import { CHUNK, CHUNK_COUNT, HELLO, PORT, collectGarbage, pathOf, ready } from './routes.mjs';

const TEXT = { 'Content-Type': 'text/plain' };
const HELLO_HEAD = { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(HELLO) };

// Bodies of known length go out with Content-Length, as Rocket sends a list body (writeHead without
// it would make node:http use chunked encoding). /stream is chunked on both.

/** Start `createServer(listener)` on PORT and say "ready <port>". */
export function serve(createServer) {
  const server = createServer((req, res) => {
    switch (pathOf(req.url)) {
      case '/hello':
        res.writeHead(200, HELLO_HEAD);
        res.end(HELLO);
        return;
      case '/echo': {
        const chunks = [];
        req.on('data', (chunk) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
          res.end(body);
        });
        return;
      }
      case '/stream':
        res.writeHead(200, TEXT);
        for (let i = 0; i < CHUNK_COUNT; i++) res.write(CHUNK);
        res.end();
        return;
      case '/gc':
        res.writeHead(200, TEXT);
        res.end(collectGarbage());
        return;
      case '/count':
        server.getConnections((error, open) => {
          res.writeHead(200, TEXT);
          res.end(JSON.stringify({ open: error ? -1 : open }));
        });
        return;
      default:
        res.writeHead(404, TEXT);
        res.end('not found');
    }
  });
  // As long as Rocket's `timeout` (600 s), so idle keep-alive connections stay open in scenario 7.
  server.keepAliveTimeout = 600_000;
  server.listen(PORT, '127.0.0.1', () => ready(server.address().port));
  // Exit normally on SIGTERM, so `node --cpu-prof` writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  return server;
}
