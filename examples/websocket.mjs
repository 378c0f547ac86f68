// WebSockets with `ws`, attached to a Rocket-served server exactly as to an http.Server.
// Run with `node examples/websocket.mjs`, then connect to ws://127.0.0.1:3000/.
import { WebSocketServer } from 'ws';
import { createServer } from '@rocketserver/adapter-node';

const server = createServer((req, res) => res.end('This server speaks WebSocket too.\n'));
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => {
  socket.on('message', (message) => socket.send(`echo: ${message}`));
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const client of wss.clients) client.close(1001, 'server shutting down');
    server.close();
  });
}
