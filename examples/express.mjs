// An Express app on Rocket. The app is unchanged; `app.listen(port, cb)` becomes
// `listen(app, port, cb)`. Run with `node examples/express.mjs`.
import express from 'express';
import { listen } from '@rocketserver/adapter-express';

const app = express();
app.use(express.json());
app.get('/', (req, res) => res.send('Hello from Express on Rocket\n'));
app.post('/echo', (req, res) => res.json({ received: req.body }));

const server = listen(app, Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close());
