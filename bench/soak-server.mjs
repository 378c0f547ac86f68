// The server of the soak test: a small gateway app, with keep-alive connections and a restart on
// SIGHUP (the default signal handling). Prints "ready <port>".
import { Rocket } from '../packages/core/dist/index.js';

const body = Buffer.from('hello, soak\n');
const app = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]]);
  return [body];
};
const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { shutdownTimeout: 10 });
await server.start();
process.stdout.write(`ready ${server.addresses[0].port}\n`);
