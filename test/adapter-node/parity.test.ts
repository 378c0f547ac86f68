/**
 * What an app sees of createServer() against http.createServer(), for the server's own options and
 * the response's switches: the same code runs on both, and the client sees the same.
 */

import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import type net from 'node:net';
import type tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { makeCerts, type TestCerts } from '../../packages/core/test/helpers/certs.js';
import { createServer, type CreateServerOptions } from '@rocketserver/adapter-node';
import { RawClient, type RawResponse } from '../../packages/core/test/helpers/raw-client.js';

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(() => resolve(undefined)));
  }
});

/** Serve `listener` on node:http and on Rocket with the same options; `send` the same bytes to each. */
async function both(options: http.ServerOptions, listener: Listener, request: string): Promise<{ node: RawResponse; rocket: RawResponse }> {
  const out: Record<string, RawResponse> = {};
  for (const side of ['node', 'rocket'] as const) {
    const server = side === 'node' ? http.createServer(options, listener) : createServer(options as CreateServerOptions, listener);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write(request);
    out[side] = await client.readResponse();
    client.destroy();
  }
  return out as { node: RawResponse; rocket: RawResponse };
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const names = (r: RawResponse) => r.headers.map(([n]) => n.toLowerCase());

describe('switches on the response', () => {
  test('res.sendDate = false: no Date on either', async () => {
    const { node, rocket } = await both({}, (_req, res) => {
      res.sendDate = false;
      res.end('x');
    }, GET);
    expect(names(node)).not.toContain('date');
    expect(names(rocket)).not.toContain('date');
    expect(rocket.body.toString()).toBe('x');
  });

  test('res.useChunkedEncodingByDefault = false: the body arrives whole and the connection closes', async () => {
    const { node, rocket } = await both({}, (_req, res) => {
      res.useChunkedEncodingByDefault = false;
      res.write('one, ');
      setImmediate(() => res.end('two'));
    }, GET);
    expect(node.body.toString()).toBe('one, two');
    expect(rocket.body.toString()).toBe('one, two');
    expect(rocket.headers).toContainEqual(['Connection', 'close']);
  });

  test('a status from 600 to 999 set on res.statusCode is sent as node:http sends it', async () => {
    const { node, rocket } = await both({}, (_req, res) => {
      res.statusCode = 799;
      res.end('x');
    }, GET);
    expect(rocket.statusLine).toBe(node.statusLine);
    expect(rocket.statusLine).toBe('HTTP/1.1 799 unknown');
  });
});

describe('write callbacks', () => {
  test('each called once, after its write returned, in the order of the writes, with the same and with different callbacks', async () => {
    const logs: Record<string, string[]> = {};
    const { node, rocket } = await both({}, (_req, res) => {
      const log: string[] = [];
      logs[String(Object.keys(logs).length)] = log;
      const same = () => log.push('same');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 3; i++) {
        res.write(`a${i} `, same);
        log.push(`wrote a${i}`);
      }
      res.write('b ', () => log.push('b'));
      res.write('c ', same);
      res.end('end', () => {
        log.push('end');
        res.socket?.end();
      });
    }, GET);
    expect(rocket.body.toString()).toBe(node.body.toString());
    expect(logs['1']).toEqual(logs['0']);
    expect(logs['0']!.slice(0, 3)).toEqual(['wrote a0', 'wrote a1', 'wrote a2']);
    expect(logs['0']!.filter((entry) => entry === 'same')).toHaveLength(4);
    expect(logs['0']!.at(-1)).toBe('end');
  });
});

describe('createServer options', () => {
  test('IncomingMessage and ServerResponse: requests and responses are made of the given classes', async () => {
    class Request extends http.IncomingMessage {
      kind = 'mine';
    }
    class Response extends http.ServerResponse<Request> {
      greet(): void {
        this.end(`hello from ${(this.req as Request).kind}`);
      }
    }
    const { node, rocket } = await both({ IncomingMessage: Request, ServerResponse: Response as typeof http.ServerResponse }, (req, res) => {
      expect(req).toBeInstanceOf(Request);
      (res as Response).greet();
    }, GET);
    expect(node.body.toString()).toBe('hello from mine');
    expect(rocket.body.toString()).toBe('hello from mine');
  });

  test('requireHostHeader: false serves an HTTP/1.1 request without Host', async () => {
    const { node, rocket } = await both({ requireHostHeader: false }, (req, res) => res.end(`host=${req.headers.host ?? 'none'}`), 'GET / HTTP/1.1\r\n\r\n');
    expect(node.status).toBe(200);
    expect(rocket.status).toBe(200);
    expect(rocket.body.toString()).toBe('host=none');
  });

  test('uniqueHeaders: the listed fields go out as one line, as on node:http', async () => {
    const { node, rocket } = await both({ uniqueHeaders: ['x-one'] }, (_req, res) => {
      res.setHeader('X-One', ['a', 'b']);
      res.setHeader('X-Two', ['a', 'b']);
      res.end();
    }, GET);
    const fields = (r: RawResponse) => r.headers.filter(([n]) => n.startsWith('X-'));
    expect(fields(node)).toEqual([['X-One', 'a; b'], ['X-Two', 'a'], ['X-Two', 'b']]);
    expect(fields(rocket)).toEqual(fields(node));
  });
});

/** Listen with `listener` on node:http or on Rocket, after `setup` set the server's properties. */
async function serve(side: 'node' | 'rocket', listener: Listener, setup: (server: http.Server) => void = () => {}): Promise<{ server: http.Server; port: number }> {
  const server = side === 'node' ? http.createServer(listener) : createServer(listener);
  servers.push(server);
  setup(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

const SIDES = ['node', 'rocket'] as const;
const pathOf = (req: http.IncomingMessage, res: http.ServerResponse) => res.end(req.url);

describe('the limits set on the server', () => {
  test('maxRequestsPerSocket = 2, three requests pipelined: the third gets 503 with Connection: close', async () => {
    const seen: Record<string, RawResponse[]> = {};
    for (const side of SIDES) {
      const { port } = await serve(side, pathOf, (server) => {
        server.maxRequestsPerSocket = 2;
      });
      const client = await RawClient.connect(port);
      await client.write(`${GET.replace('/', '/1')}${GET.replace('/', '/2')}${GET.replace('/', '/3')}`);
      seen[side] = [await client.readResponse(), await client.readResponse(), await client.readResponse()];
      // Rocket closes once it has answered what it received; node:http keeps the socket open.
      if (side === 'rocket') await client.waitEnd();
      client.destroy();
    }
    for (const side of SIDES) {
      const [first, second, third] = seen[side]!;
      expect([first!.status, first!.body.toString(), first!.header('connection'), first!.header('keep-alive')]).toEqual([200, '/1', 'keep-alive', 'timeout=5, max=2']);
      expect([second!.status, second!.body.toString(), second!.header('connection')]).toEqual([200, '/2', 'close']);
      expect([third!.statusLine, third!.header('connection')]).toEqual(['HTTP/1.1 503 Service Unavailable', 'close']);
    }
  });

  test('maxRequestsPerSocket: a HEAD beyond the limit gets a 503 without a body, and each request already received is answered', async () => {
    const { port } = await serve('rocket', pathOf, (server) => {
      server.maxRequestsPerSocket = 1;
    });
    const client = await RawClient.connect(port);
    await client.write(`${GET}${GET.replace('GET', 'HEAD')}${GET}`);
    expect((await client.readResponse()).header('connection')).toBe('close');
    const head = await client.readResponse({ head: true });
    expect([head.status, head.header('connection')]).toEqual([503, 'close']);
    const last = await client.readResponse();
    expect([last.status, last.header('connection')]).toEqual([503, 'close']);
    await client.waitEnd();
    expect(client.pending.length).toBe(0);
  });

  test("maxConnections = 1: a second connection is closed unanswered, 'drop' tells its addresses, and raising the limit lets the next one in", async () => {
    for (const side of SIDES) {
      const drops: Record<string, unknown>[] = [];
      const { server, port } = await serve(side, pathOf, (s) => {
        s.maxConnections = 1;
        s.on('drop', (data: Record<string, unknown>) => drops.push(data));
      });
      expect(server.maxConnections).toBe(1);
      const first = await RawClient.connect(port);
      await first.write(GET);
      await first.readResponse();
      const second = await RawClient.connect(port);
      const secondPort = second.socket.localPort;
      await second.write(GET);
      await second.waitEnd();
      expect(second.pending.length).toBe(0);
      await expect.poll(() => drops.length).toBe(1);
      expect(Object.getPrototypeOf(drops[0])).toBe(null);
      expect({ ...drops[0] }).toEqual({ localAddress: '127.0.0.1', localPort: port, localFamily: 'IPv4', remoteAddress: '127.0.0.1', remotePort: secondPort, remoteFamily: 'IPv4' });
      server.maxConnections = 2;
      const third = await RawClient.connect(port);
      await third.write(GET);
      expect((await third.readResponse()).status).toBe(200);
      for (const client of [first, second, third]) client.destroy();
    }
  });

  test.each([
    [5000, 0],
    [1500, 0],
    [500, 0],
    [0, 0],
    [61_000, 100],
  ])('keepAliveTimeout %i, maxRequestsPerSocket %i: the same Connection and Keep-Alive fields', async (keepAliveTimeout, maxRequestsPerSocket) => {
    const fields: Record<string, unknown> = {};
    for (const side of SIDES) {
      const { port } = await serve(side, pathOf, (server) => {
        server.keepAliveTimeout = keepAliveTimeout;
        server.maxRequestsPerSocket = maxRequestsPerSocket;
      });
      const client = await RawClient.connect(port);
      await client.write(GET);
      const response = await client.readResponse();
      fields[side] = [response.header('connection'), response.header('keep-alive')];
      client.destroy();
    }
    expect(fields.rocket).toEqual(fields.node);
  });
});

describe('what Rocket answers differently, on purpose', () => {
  test('writeHead(100) as the final response is the app\'s error: a 500, where node:http sends a bare 100', async () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m) };
    const server = createServer({ rocket: { logger } }, (_req, res) => res.writeHead(100).end());
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write(GET);
    const response = await client.readResponse();
    client.destroy();
    expect(response.status).toBe(500);
    expect(errors.join('\n')).toMatch(/status 100 cannot be a final response/);
  });
});

describe("the server's connection events", () => {
  test("'connection' comes once per connection, before its first request, with the socket requests then see", async () => {
    const server = createServer((req, res) => res.end(String(seen.indexOf(req.socket as net.Socket))));
    const seen: net.Socket[] = [];
    server.on('connection', (socket: net.Socket) => seen.push(socket));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await RawClient.connect((server.address() as net.AddressInfo).port);
    await client.write(GET);
    await client.readResponse().then((r) => expect(r.body.toString()).toBe('0'));
    await client.write(GET);
    await client.readResponse().then((r) => expect(r.body.toString()).toBe('0'));
    expect(seen).toHaveLength(1);
    // A connection that sends nothing is announced too.
    const idle = await RawClient.connect((server.address() as net.AddressInfo).port);
    await expect.poll(() => seen.length).toBe(2);
    client.destroy();
    idle.destroy();
  });
});

describe('req.socket on a TLS connection', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });
  afterAll(() => certs.remove());

  test("has the TLS socket's details: servername, getCipher(), getProtocol(), getSession(), exportKeyingMaterial(), alpnProtocol, and 'secureConnection'", async () => {
    let details: Record<string, unknown> = {};
    const server = createServer({ tls: { keyFile: certs.serverKey, certFile: certs.serverCert } }, (req, res) => {
      const socket = req.socket as tls.TLSSocket;
      details = {
        encrypted: socket.encrypted,
        servername: socket.servername,
        cipher: socket.getCipher(),
        protocol: socket.getProtocol(),
        session: Buffer.isBuffer(socket.getSession()),
        keying: socket.exportKeyingMaterial(16, 'EXPERIMENTAL-test').length,
        alpn: socket.alpnProtocol,
      };
      res.end('ok');
    });
    let secure = 0;
    server.on('secureConnection', () => secure++);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.read(certs.caCert), path: '/' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe('ok');
    expect(details).toMatchObject({ encrypted: true, servername: 'localhost', session: true, keying: 16, alpn: false });
    expect(details.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(details.cipher).toMatchObject({ name: expect.any(String), standardName: expect.any(String), version: expect.any(String) });
    expect(secure).toBe(1);
  });
});
