// Rocket's core with a gateway app: (environ, startResponse) => body.
import { Rocket } from '@rocketserver/core';
import { CHUNK, CHUNK_COUNT, HELLO, PORT, collectGarbage, ready } from './routes.mjs';

function* stream() {
  for (let i = 0; i < CHUNK_COUNT; i++) yield CHUNK;
}

async function echo(environ, startResponse) {
  const body = await environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [body];
}

const app = (environ, startResponse) => {
  switch (environ.PATH_INFO) {
    case '/hello':
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [HELLO];
    case '/echo':
      return echo(environ, startResponse);
    case '/stream':
      // A generator, so the body is genuinely streamed chunk by chunk (chunked encoding).
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return stream();
    case '/gc':
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [collectGarbage()];
    case '/count':
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [JSON.stringify({ open: server.stats().connections.open })];
    default:
      startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
      return ['not found'];
  }
};

// timeout: seconds an idle keep-alive connection stays open (600 is the default; set for clarity).
const server = new Rocket(['127.0.0.1', PORT], 'wsgi', { wsgi_app: app }, { timeout: 600 });
await server.start();
ready(server.addresses[0].port);
