/**
 * Response framing on the wire (RFC 9112 §6, RFC 9110 §6.4.1, §9.3.2): what the client reads for
 * each kind of body the app returns.
 */

import { describe, expect, test } from 'vitest';
import type { GatewayApp } from '@rocketserver/core';
import { RawClient } from '../helpers/raw-client.js';
import { serve } from '../helpers/server.js';

const GET = 'GET / HTTP/1.1\r\nHost: t\r\n\r\n';
const GET10 = 'GET / HTTP/1.0\r\n\r\n';

async function exchange(app: GatewayApp, request: string, head = false) {
  const served = await serve(app);
  const client = await RawClient.connect(served.port);
  await client.write(request);
  const response = await client.readResponse({ head });
  return { response, client, ...served };
}

function* generator(...chunks: string[]) {
  yield* chunks;
}

async function* asyncGenerator(...chunks: string[]) {
  for (const chunk of chunks) yield chunk;
}

describe('Content-Length when the length is known', () => {
  test('a list of chunks gets their total length, in one response', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['ab', Buffer.from('cd'), new Uint8Array([0x65])];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('content-length')).toBe('5');
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.body.toString()).toBe('abcde');
    client.destroy();
  });

  test('UTF-8 text is counted in bytes, not characters', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return ['héllo ✓'];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('content-length')).toBe(String(Buffer.byteLength('héllo ✓')));
    expect(response.body.toString('utf8')).toBe('héllo ✓');
    client.destroy();
  });

  test('a synchronous generator of one chunk gets Content-Length', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return generator('', 'only', '');
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('content-length')).toBe('4');
    expect(response.body.toString()).toBe('only');
    client.destroy();
  });

  test('an empty list is Content-Length: 0', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return [];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('content-length')).toBe('0');
    expect(response.body.length).toBe(0);
    client.destroy();
  });

  test('a Promise of a list is a known length too', async () => {
    const app: GatewayApp = async (_e, start) => {
      await new Promise((resolve) => setImmediate(resolve));
      start('201 Created', [['X-A', '1']]);
      return ['done'];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.statusLine).toBe('HTTP/1.1 201 Created');
    expect(response.header('content-length')).toBe('4');
    client.destroy();
  });
});

describe('streamed bodies', () => {
  test('a generator of several chunks is chunked on HTTP/1.1, empty chunks skipped', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return generator('a', '', 'bc');
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write(GET);
    await client.waitBytes(1);
    const response = await client.readResponse();
    expect(response.header('transfer-encoding')).toBe('chunked');
    expect(response.body.toString()).toBe('abc');
    // The exact bytes of the body: no empty chunk, which would end the body early.
    const raw = response.head.length;
    expect(raw).toBeGreaterThan(0);
    client.destroy();
  });

  test('exact chunked bytes', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Date', 'x'], ['Server', 'y']]);
      return generator('a', 'bcdefghijklmnopq');
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toBe(
      'HTTP/1.1 200 OK\r\nDate: x\r\nServer: y\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        '1\r\na\r\n10\r\nbcdefghijklmnopq\r\n0\r\n\r\n',
    );
  });

  test('an async generator streams from its first chunk', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return asyncGenerator('x');
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('transfer-encoding')).toBe('chunked');
    expect(response.body.toString()).toBe('x');
    client.destroy();
  });

  test('HTTP/1.0 gets a close-delimited body and no Transfer-Encoding', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return generator('a', 'b', 'c');
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write(GET10);
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(all).not.toMatch(/transfer-encoding/i);
    expect(all).not.toMatch(/content-length/i);
    expect(all).toMatch(/\r\nConnection: close\r\n\r\nabc$/);
  });

  test('HTTP/1.0 with a list gets Content-Length of the whole body', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return ['a', 'bc'];
    };
    const { response, client } = await exchange(app, GET10);
    expect(response.header('content-length')).toBe('3');
    expect(response.body.toString()).toBe('abc');
    await client.waitEnd();
  });

  test('the write() callable streams before the returned body', async () => {
    const app: GatewayApp = (_e, start) => {
      const write = start('200 OK', []);
      write('written ');
      return ['returned'];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('transfer-encoding')).toBe('chunked');
    expect(response.body.toString()).toBe('written returned');
    client.destroy();
  });

  test('a large streamed body respects backpressure and arrives whole', async () => {
    // If the generator ignored backpressure it would run to its end in one turn, queueing the
    // whole 40 MiB before the client saw a byte. With backpressure, what it has produced stays
    // within socket buffers of what the client has received.
    const block = Buffer.alloc(1024 * 1024, 0x78);
    let produced = 0;
    let received = 0;
    let maxLead = 0;
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return (function* () {
        for (let i = 0; i < 40; i++) {
          produced += block.length;
          maxLead = Math.max(maxLead, produced - received);
          yield block;
        }
      })();
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    client.socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    await client.write(GET);
    const response = await client.readResponse({ timeout: 10_000 });
    expect(response.body.length).toBe(40 * block.length);
    expect(maxLead).toBeLessThan(20 * block.length);
    client.destroy();
  });
});

describe('responses without content', () => {
  test('HEAD gets the headers a GET would, and no body', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return ['hello'];
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const head = await client.readResponse({ head: true });
    expect(head.header('content-length')).toBe('5');
    const get = await client.readResponse();
    // Nothing was sent after HEAD's head: the next bytes are the GET's status line.
    expect(get.statusLine).toBe('HTTP/1.1 200 OK');
    expect(get.body.toString()).toBe('hello');
    client.destroy();
  });

  test('HEAD of a streamed body sends neither chunks nor Transfer-Encoding (as node:http)', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return generator('a', 'b');
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write('HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const head = await client.readResponse({ head: true });
    expect(head.header('transfer-encoding')).toBeUndefined();
    expect(head.header('content-length')).toBeUndefined();
    const get = await client.readResponse();
    expect(get.body.toString()).toBe('ab');
    client.destroy();
  });

  test.each([204, 304])('%i carries no body, Content-Length or Transfer-Encoding', async (code) => {
    const app: GatewayApp = (_e, start) => {
      start(`${code} X`, code === 204 ? [['Content-Length', '5']] : []);
      return ['hello'];
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write(`${GET}${GET}`);
    const first = await client.readResponse();
    expect(first.status).toBe(code);
    expect(first.header('content-length')).toBeUndefined();
    expect(first.header('transfer-encoding')).toBeUndefined();
    const second = await client.readResponse();
    expect(second.status).toBe(code);
    client.destroy();
  });

  test('304 keeps a Content-Length the app gives', async () => {
    const app: GatewayApp = (_e, start) => {
      start('304 Not Modified', [['Content-Length', '42'], ['ETag', '"a"']]);
      return [];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.header('content-length')).toBe('42');
    expect(response.header('etag')).toBe('"a"');
    client.destroy();
  });
});

describe("the app's own framing headers", () => {
  test('Content-Length from the app is honoured', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Content-Length', '6']]);
      return generator('abc', 'def');
    };
    const { response, client } = await exchange(app, GET);
    expect(response.headerAll('content-length')).toEqual(['6']);
    expect(response.header('transfer-encoding')).toBeUndefined();
    expect(response.body.toString()).toBe('abcdef');
    expect(response.header('connection')).toBe('keep-alive');
    client.destroy();
  });

  test('a body longer than its Content-Length is cut, logged, and the connection closed', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Content-Length', '3']]);
      return generator('abc', 'def');
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write(GET);
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/\r\n\r\nabc$/);
    expect(served.logs.some((l) => l.level === 'warn' && /longer than its Content-Length/.test(l.message))).toBe(true);
  });

  test('a body shorter than its Content-Length closes the connection and is logged', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Content-Length', '10']]);
      return ['abc'];
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write(GET);
    const all = (await client.readToEnd()).toString('latin1');
    expect(all).toMatch(/\r\n\r\nabc$/);
    expect(served.logs.some((l) => l.level === 'warn' && /shorter than its Content-Length/.test(l.message))).toBe(true);
  });

  test('Transfer-Encoding: chunked from the app means Rocket chunks it', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Transfer-Encoding', 'chunked']]);
      return ['abc'];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.headerAll('transfer-encoding')).toEqual(['chunked']);
    expect(response.header('content-length')).toBeUndefined();
    expect(response.body.toString()).toBe('abc');
    client.destroy();
  });

  test('Connection: close from the app closes after the response', async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', [['Connection', 'close']]);
      return ['cc'];
    };
    const { response, client } = await exchange(app, GET);
    expect(response.headerAll('connection')).toEqual(['close']);
    await client.waitEnd();
  });

  test('Date and Server are added unless the app sets them', async () => {
    const app: GatewayApp = (environ, start) => {
      start('200 OK', environ.PATH_INFO === '/own' ? [['date', 'yesterday'], ['SERVER', 'mine']] : []);
      return [];
    };
    const served = await serve(app);
    const client = await RawClient.connect(served.port);
    await client.write('GET /own HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
    const own = await client.readResponse();
    expect(own.headerAll('date')).toEqual(['yesterday']);
    expect(own.headerAll('server')).toEqual(['mine']);
    const added = await client.readResponse();
    expect(added.header('date')).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(added.header('server')).toMatch(/^Rocket\/\d+\.\d+\.\d+/);
    client.destroy();
  });

  test("serverSoftware '' sends no Server header", async () => {
    const app: GatewayApp = (_e, start) => {
      start('200 OK', []);
      return [];
    };
    const served = await serve(app, { serverSoftware: '' });
    const client = await RawClient.connect(served.port);
    await client.write(GET);
    const response = await client.readResponse();
    expect(response.header('server')).toBeUndefined();
    client.destroy();
  });
});
