import Koa from 'koa';
const app = new Koa();
app.use((ctx) => {
  ctx.body = 'koa';
});
export default app;
