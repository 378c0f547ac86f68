// A gateway app on Rocket: run with `node examples/hello-gateway.mjs`, then open
// http://127.0.0.1:8000/ (PORT=0 picks a free port).
import { Rocket } from '@rocketserver/core';

const app = async (environ, startResponse) => {
  const body = await environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [`Hello from Rocket: ${environ.REQUEST_METHOD} ${environ.PATH_INFO}, ${body.length} bytes of body\n`];
};

const server = new Rocket(['127.0.0.1', Number(process.env.PORT ?? 8000)], 'wsgi', { wsgi_app: app });
await server.start();
const { host, port } = server.addresses[0];
console.log(`listening on http://${host}:${port}/`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.stop());
