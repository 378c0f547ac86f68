// The load generator's ceiling: net.Server that counts "\r\n\r\n" and answers each with a prebuilt
// response. No parsing at all, so whatever rate this reaches is the generator's limit, not a server's.
import net from 'node:net';
import { HELLO, PORT, ready } from './routes.mjs';

const RESPONSE = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${HELLO.length}\r\n\r\n${HELLO}`,
  'latin1',
);
const END = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

/** How many bytes at the end of buf[from..] could start a "\r\n\r\n" split across reads (0–3). */
function partial(buf, from) {
  for (let k = Math.min(3, buf.length - from); k > 0; k--) {
    if (buf.subarray(buf.length - k).equals(END.subarray(0, k))) return k;
  }
  return 0;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  let carry = EMPTY;
  socket.on('data', (chunk) => {
    const buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    let ends = 0;
    let from = 0;
    for (let i = buf.indexOf(END); i !== -1; i = buf.indexOf(END, from)) {
      ends++;
      from = i + 4;
    }
    const k = partial(buf, from);
    carry = k === 0 ? EMPTY : Buffer.from(buf.subarray(buf.length - k));
    if (ends === 1) socket.write(RESPONSE);
    else if (ends > 1) socket.write(Buffer.concat(Array(ends).fill(RESPONSE)));
  });
  socket.on('error', () => {});
});
server.listen(PORT, '127.0.0.1', () => ready(server.address().port));
