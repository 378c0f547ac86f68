// The same small app in Express, Koa and Fastify, for the framework rows of the benchmark. Each
// framework's app is built here once and started twice: on node:http (the framework's own listen)
// and on Rocket (through its adapter). Routes as in routes.mjs: /hello, /echo, /stream, /gc, /count.
import { CHUNK, CHUNK_COUNT, HELLO, PORT, collectGarbage, ready } from './routes.mjs';

const TEXT = 'text/plain';

function* stream() {
  for (let i = 0; i < CHUNK_COUNT; i++) yield CHUNK;
}

/** Collect a request body (no body-parser: the same work in every framework). */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function express(onRocket) {
  const { default: createApp } = await import('express');
  const app = createApp();
  app.set('etag', false);
  app.disable('x-powered-by');
  app.get('/hello', (req, res) => res.type(TEXT).send(HELLO));
  app.post('/echo', async (req, res) => res.type(TEXT).send(await readBody(req)));
  app.get('/stream', (req, res) => {
    res.type(TEXT);
    for (const chunk of stream()) res.write(chunk);
    res.end();
  });
  app.get('/gc', (req, res) => res.type(TEXT).send(collectGarbage()));
  let server;
  app.get('/count', (req, res) => server.getConnections((error, open) => res.type(TEXT).send(JSON.stringify({ open }))));
  if (onRocket) {
    const { listen } = await import('@rocketserver/adapter-express');
    server = listen(app, PORT, '127.0.0.1', () => ready(server.address().port));
  } else {
    server = app.listen(PORT, '127.0.0.1', () => ready(server.address().port));
  }
  server.keepAliveTimeout = 600_000;
}

export async function koa(onRocket) {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  let server;
  app.use(async (ctx) => {
    ctx.type = TEXT;
    switch (ctx.path) {
      case '/hello':
        ctx.body = HELLO;
        return;
      case '/echo':
        ctx.body = await readBody(ctx.req);
        return;
      case '/stream':
        ctx.body = (await import('node:stream')).Readable.from(stream());
        return;
      case '/gc':
        ctx.body = collectGarbage();
        return;
      case '/count':
        ctx.body = JSON.stringify({ open: await new Promise((resolve) => server.getConnections((e, n) => resolve(n))) });
        return;
      default:
        ctx.status = 404;
    }
  });
  if (onRocket) {
    const { listen } = await import('@rocketserver/adapter-koa');
    server = listen(app, PORT, '127.0.0.1', () => ready(server.address().port));
  } else {
    server = app.listen(PORT, '127.0.0.1', () => ready(server.address().port));
  }
  server.keepAliveTimeout = 600_000;
}

export async function fastify(onRocket) {
  const { default: Fastify } = await import('fastify');
  const options = { keepAliveTimeout: 600_000 };
  if (onRocket) options.serverFactory = (await import('@rocketserver/adapter-fastify')).serverFactory;
  const app = Fastify(options);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => done(null, body));
  app.get('/hello', (req, reply) => reply.type(TEXT).send(HELLO));
  app.post('/echo', (req, reply) => reply.type(TEXT).send(req.body));
  const { Readable } = await import('node:stream');
  app.get('/stream', (req, reply) => reply.type(TEXT).send(Readable.from(stream())));
  app.get('/gc', (req, reply) => reply.type(TEXT).send(collectGarbage()));
  app.get('/count', (req, reply) =>
    app.server.getConnections((error, open) => reply.type(TEXT).send(JSON.stringify({ open }))),
  );
  await app.listen({ port: PORT, host: '127.0.0.1' });
  ready(app.server.address().port);
}
