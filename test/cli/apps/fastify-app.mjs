import Fastify from 'fastify';
import websocket from '@fastify/websocket';
const fastify = Fastify();
await fastify.register(websocket);
fastify.get('/', async () => 'fastify');
fastify.get('/ws', { websocket: true }, (socket) => {
  socket.on('message', (message) => socket.send(`echo ${message}`));
});
export default fastify;
