// Plain node:http code on Rocket: `http.createServer` becomes `createServer` from
// @rocketserver/adapter-node, with the same surface. Run with `node examples/node-http.mjs`.
import { createServer } from '@rocketserver/adapter-node';

const server = createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`Hello from node:http code on Rocket: ${req.method} ${req.url}\n`);
});
server.keepAliveTimeout = 65_000; // longer than a typical load balancer's idle timeout

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close());
