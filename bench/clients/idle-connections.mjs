// Opens N keep-alive connections to 127.0.0.1:PORT in batches; each sends one GET /hello, reads the
// whole response, then stays open and idle. Talks to the harness over stdio:
//   stdout "opened <n> <ms>"   once every connection got its response
//   stdin  "check"          →  stdout "open <n>" (connections the server has not closed)
//   stdin  "close" or EOF   →  closes everything and exits
// Usage: node idle-connections.mjs <port> <count> [batch]
import net from 'node:net';
import { createInterface } from 'node:readline';

const [port, count, batch = 250] = process.argv.slice(2).map(Number);
const REQUEST = `GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
const BODY = 'Hello, World!';
const sockets = [];
let closed = 0;

function open() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let response = '';
    const timer = setTimeout(() => reject(new Error('no response within 30 s')), 30_000);
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(REQUEST));
    socket.on('data', (data) => {
      response += data;
      if (response.endsWith(BODY)) {
        clearTimeout(timer);
        response = '';
        resolve();
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => closed++);
    sockets.push(socket);
  });
}

const started = performance.now();
try {
  for (let opened = 0; opened < count; opened += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - opened) }, open));
  }
} catch (error) {
  console.error(`idle-connections: ${error.message}`);
  process.exit(1);
}
console.log(`opened ${sockets.length} ${Math.round(performance.now() - started)}`);

const finish = () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
};
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'check') console.log(`open ${sockets.length - closed}`);
    else if (line === 'close') finish();
  })
  .on('close', finish);
