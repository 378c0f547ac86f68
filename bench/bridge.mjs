// The Node bridge alone: `toGateway(listener)` called on a made-up environ whose response channel
// does nothing — no sockets, no parser, no core exchange. What it times is what the bridge and
// Node's own IncomingMessage/ServerResponse cost per request.
//
//   npm run build && npm run bench:bridge            # the three listeners below
//   BENCH_BRIDGE_REQUESTS=400000 npm run bench:bridge
import { toGateway } from '@rocketserver/adapter-node';

const HELLO = 'Hello, World!';
const HEAD = { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length };
const CHUNK = Buffer.alloc(4096, 0x78);
const LISTENERS = {
  'writeHead + end(text)': (req, res) => {
    res.writeHead(200, HEAD);
    res.end(HELLO);
  },
  'setHeader + end(text)': (req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(HELLO);
  },
  '16 writes of 4 KiB, chunked': (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    for (let i = 0; i < 16; i++) res.write(CHUNK);
    res.end();
  },
};
const REQUESTS = Math.round(Number(process.env.BENCH_BRIDGE_REQUESTS ?? 200_000));
/** Requests started before the event loop runs: each on a connection of its own, as 64 clients would. */
const IN_FLIGHT = 64;

const input = { read: async () => Buffer.alloc(0), readline: async () => Buffer.alloc(0), readlines: async () => [], readChunkNow: () => null, async *[Symbol.asyncIterator]() {} };
const connections = Array.from({ length: IN_FLIGHT }, (_, id) => ({
  id, remoteAddress: '127.0.0.1', remotePort: 50000 + id, localAddress: '127.0.0.1', localPort: 8080, serverPort: 8080,
  secure: false, tls: null, onClose() {}, destroy() {},
}));
let answered = 0;
function channel() {
  const done = () => void answered++;
  return {
    bytesWritten: 0, startWith() {}, startPrepared() {}, informational() {}, write: () => true, sendAll: done, end: done,
    flush() {}, abort() {}, fail(error) { throw error; }, drained: () => Promise.resolve(), onClose() {}, cork() {}, uncork() {},
  };
}
const RAW = ['Host', 'localhost:8080'];
const environ = (i) => ({
  REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/hello', QUERY_STRING: '', REQUEST_URI: '/hello', SERVER_PROTOCOL: 'HTTP/1.1',
  'wsgi.input': input, 'rocket.raw_headers': RAW, 'rocket.connection': connections[i % IN_FLIGHT], 'rocket.response': channel(),
});
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function round(app) {
  answered = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    app(environ(i), null);
    if (i % IN_FLIGHT === IN_FLIGHT - 1) await turn();
  }
  await turn();
  const ns = Number(process.hrtime.bigint() - start) / REQUESTS;
  if (answered !== REQUESTS) throw new Error(`${answered} of ${REQUESTS} responses completed`);
  return ns;
}

console.log(`Node bridge alone — Node ${process.version}; ${REQUESTS.toLocaleString('en')} requests per round, 4 rounds, the last 3's median\n`);
for (const [name, listener] of Object.entries(LISTENERS)) {
  const app = toGateway(listener);
  const rounds = [];
  for (let r = 0; r < 4; r++) rounds.push(await round(app));
  const median = rounds.slice(1).sort((a, b) => a - b)[1];
  console.log(`${name.padEnd(30)} ${(median / 1000).toFixed(2)} µs per request`);
}
