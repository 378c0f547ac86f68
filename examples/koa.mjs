// A Koa app on Rocket. The app is unchanged; `app.listen(port, cb)` becomes
// `listen(app, port, cb)`. Run with `node examples/koa.mjs`.
import Koa from 'koa';
import { listen } from '@rocketserver/adapter-koa';

const app = new Koa();
app.use(async (ctx) => {
  ctx.body = { hello: 'from Koa on Rocket', path: ctx.path };
});

const server = listen(app, Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close());
