// Streaming a response from an async generator: each chunk leaves as it is produced
// (chunked encoding on HTTP/1.1). Run with `node examples/streaming.mjs`.
import { Rocket } from '@rocketserver/core';

async function* countdown(from) {
  for (let i = from; i > 0; i--) {
    yield `${i}…\n`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  yield 'liftoff\n';
}

const app = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return countdown(Number(new URLSearchParams(environ.QUERY_STRING).get('from') ?? 3));
};

const server = new Rocket(['127.0.0.1', Number(process.env.PORT ?? 8000)], 'wsgi', { wsgi_app: app });
await server.start();
const { host, port } = server.addresses[0];
console.log(`listening on http://${host}:${port}/?from=5`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.stop());
