// One-off HTTP requests from the harness (node:http client, one connection each, Connection: close):
// the route check before a server is measured, and the /gc and /count routes of scenario 7.
import http from 'node:http';
import { BROWSER_HEADERS, BROWSER_PATH } from './requests.mjs';

/** One request; resolves with status, headers and the whole body. Bounded by `timeoutMs`. */
export function request(port, method, path, { headers = {}, body, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function getJson(port, path) {
  const res = await request(port, 'GET', path);
  return JSON.parse(res.body.toString('utf8'));
}

/**
 * Check a server answers every benchmark route correctly before measuring it, so a fast wrong
 * answer cannot pass for a fast right one. Throws naming the first route that is wrong.
 */
export async function checkRoutes(port) {
  const echoBody = Buffer.alloc(1024, 'x');
  const checks = [
    ['GET /hello', () => request(port, 'GET', '/hello'), (b) => b.toString() === 'Hello, World!'],
    ['GET browser request', () => request(port, 'GET', BROWSER_PATH, { headers: Object.fromEntries(BROWSER_HEADERS) }), (b) => b.toString() === 'Hello, World!'],
    ['POST /echo', () => request(port, 'POST', '/echo', { body: echoBody, headers: { 'Content-Type': 'text/plain' } }), (b) => b.equals(echoBody)],
    ['GET /stream', () => request(port, 'GET', '/stream'), (b) => b.length === 65_536],
  ];
  for (const [name, send, bodyOk] of checks) {
    const res = await send();
    if (res.status !== 200) throw new Error(`${name}: status ${res.status}`);
    if (!/^text\/plain/.test(res.headers['content-type'] ?? '')) throw new Error(`${name}: Content-Type ${res.headers['content-type']}`);
    if (!bodyOk(res.body)) throw new Error(`${name}: unexpected body (${res.body.length} bytes)`);
  }
}
