// A Fastify app on Rocket: one option, `serverFactory`; routes, plugins, listen() and close() are
// unchanged. Run with `node examples/fastify.mjs`.
import Fastify from 'fastify';
import { serverFactory } from '@rocketserver/adapter-fastify';

const fastify = Fastify({ serverFactory });
fastify.get('/', async () => ({ hello: 'from Fastify on Rocket' }));

await fastify.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on http://127.0.0.1:${fastify.server.address().port}/`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => fastify.close());
