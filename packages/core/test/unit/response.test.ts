/**
 * The response writer on its own (src/gateway/response.ts), over a loopback connection: the bytes
 * a client reads for each way of writing, and what the exchange is told at the end.
 */

import { afterEach, describe, expect, test } from 'vitest';
import { RocketError } from '../../src/errors.js';
import { responsePair, type ResponsePair } from '../helpers/response-owner.js';

const pairs: ResponsePair[] = [];
afterEach(async () => {
  for (const pair of pairs.splice(0)) await pair.close();
});
async function open(...args: Parameters<typeof responsePair>): Promise<ResponsePair> {
  const pair = await responsePair(...args);
  pairs.push(pair);
  return pair;
}

const DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe('a whole body', () => {
  test('sendAll: its length becomes Content-Length, then Date, Server and the persistence fields', async () => {
    const { response, client, log } = await open();
    response.start('200 OK', [['Content-Type', 'text/plain']]);
    response.sendAll(['hello', ' ', Buffer.from('world')]);
    const seen = await client.readResponse();
    expect(seen.headers.map(([name]) => name)).toEqual(['Content-Type', 'Content-Length', 'Date', 'Server', 'Connection', 'Keep-Alive']);
    expect([seen.header('content-length'), seen.header('server'), seen.header('connection'), seen.header('keep-alive')]).toEqual(['11', 'Test/1', 'keep-alive', 'timeout=5']);
    expect(seen.header('date')).toMatch(DATE);
    expect(seen.body.toString()).toBe('hello world');
    expect(log.ended).toEqual([true]);
    expect(response.bytesSent).toBe(11);
  });

  test('a body longer than the declared Content-Length is refused before anything is sent', async () => {
    const { response } = await open();
    response.start('200 OK', [['Content-Length', '2']]);
    expect(() => response.sendAll(['too long'])).toThrow(expect.objectContaining({ code: 'ROCKET_ERR_RESPONSE_LENGTH' }));
    expect(response.committed).toBe(false);
  });

  test('the app\'s own Date and Server are kept, and Connection: close ends the connection', async () => {
    const { response, client, log } = await open();
    response.start('200 OK', [['Date', 'then'], ['Server', 'mine'], ['Connection', 'close']]);
    response.sendAll([]);
    const seen = await client.readResponse();
    expect(seen.headers).toEqual([['Date', 'then'], ['Server', 'mine'], ['Content-Length', '0'], ['Connection', 'close']]);
    expect(log.ended).toEqual([false]);
  });
});

describe('a streamed body', () => {
  test('HTTP/1.1: chunked, with trailers after the last chunk', async () => {
    const { response, client, log } = await open();
    response.start('200 OK', []);
    expect(response.write('one ')).toBe(true);
    response.write(new Uint8Array([0x74, 0x77, 0x6f]));
    response.end(['X-Sum', '7']);
    const seen = await client.readResponse();
    expect([seen.framing, seen.body.toString(), seen.trailers]).toEqual(['chunked', 'one two', [['X-Sum', '7']]]);
    expect(log.ended).toEqual([true]);
  });

  test('HTTP/1.0 client: no chunks; the body ends with the connection', async () => {
    const { response, client, log, socket } = await open({ version: 10 });
    response.start('200 OK', []);
    response.write('streamed');
    response.end();
    expect(log.ended).toEqual([false]);
    // Told the connection cannot persist, the owner closes it: that delimits the body.
    socket.end();
    const seen = await client.readResponse();
    expect([seen.framing, seen.header('connection'), seen.header('transfer-encoding'), seen.body.toString()]).toEqual(['close', 'close', undefined, 'streamed']);
  });

  test('a declared Content-Length the body falls short of, or runs past, costs the connection; no byte past it is sent', async () => {
    for (const [body, sent] of [['ab', 'ab'], ['abcdef', 'abcd']]) {
      const { response, client, log, socket } = await open();
      response.start('200 OK', [['Content-Length', '4']]);
      response.write(body!);
      response.end();
      expect(log.ended).toEqual([false]);
      expect(log.warnings.join()).toMatch(body!.length < 4 ? /shorter than its Content-Length/ : /longer than its Content-Length/);
      socket.end();
      const all = (await client.readToEnd()).toString('latin1');
      expect(all.slice(all.indexOf('\r\n\r\n') + 4)).toBe(sent);
    }
  });
});

describe('heads without content', () => {
  test('HEAD: the headers a GET would get, and no body', async () => {
    const { response, client } = await open({ isHead: true });
    response.start('200 OK', [['Content-Type', 'text/plain']]);
    response.sendAll(['the GET body']);
    const seen = await client.readResponse({ head: true });
    expect([seen.header('content-length'), seen.body.length]).toEqual(['12', 0]);
    expect(client.pending.length).toBe(0);
  });

  test('204: body data is dropped with a warning; 205 says Content-Length: 0', async () => {
    const noContent = await open();
    noContent.response.start('204 No Content', [['Content-Length', '3']]);
    noContent.response.write('abc');
    noContent.response.end();
    const seen = await noContent.client.readResponse();
    expect(seen.header('content-length')).toBeUndefined();
    expect(noContent.log.warnings.join()).toMatch(/body data on a 204 response was dropped/);
    const reset = await open();
    reset.response.start('205 Reset Content', []);
    reset.response.end();
    expect((await reset.client.readResponse()).header('content-length')).toBe('0');
  });
});

describe('start_response and the rocket.response calls', () => {
  test('a second start_response needs exc_info, and replaces the first only while nothing was sent', async () => {
    const { response, client } = await open();
    response.start('200 OK', [['X-First', '1']]);
    expect(() => response.start('500 Oops', [])).toThrow(RocketError);
    response.start('500 Oops', [['X-Second', '1']], [Error, new Error('boom'), null]);
    response.sendAll(['x']);
    const seen = await client.readResponse();
    expect([seen.statusLine, seen.header('x-first'), seen.header('x-second')]).toEqual(['HTTP/1.1 500 Oops', undefined, '1']);
    const thrown = new Error('late');
    expect(() => response.start('502 Late', [], [Error, thrown, null])).toThrow(thrown);
  });

  test.each([
    ['a status that is not one', 'OK', /invalid status "OK"/],
    ['an interim status', '103 Early Hints', /status 103 cannot be a final response/],
  ])('start_response refuses %s', async (_what, status, message) => {
    const { response } = await open();
    expect(() => response.start(status, [])).toThrow(message);
  });

  test('informational responses go before the final one, never to HTTP/1.0, never after the head', async () => {
    const { response, client, log } = await open();
    response.informational(100, '');
    response.informational(103, 'Early Hints', ['Link', '</a.css>; rel=preload']);
    response.startWith(200, '', ['Content-Length', '2']);
    response.write('ok');
    response.informational(103, '', []);
    response.end();
    expect(log.continues).toBe(1);
    expect((await client.readResponse()).statusLine).toBe('HTTP/1.1 100 Continue');
    const hints = await client.readResponse();
    expect([hints.statusLine, hints.header('link')]).toEqual(['HTTP/1.1 103 Early Hints', '</a.css>; rel=preload']);
    expect((await client.readResponse()).body.toString()).toBe('ok');
    expect(client.pending.length).toBe(0);
    const old = await open({ version: 10 });
    old.response.informational(100, '');
    old.response.startWith(204, '', []);
    old.response.end();
    expect((await old.client.readResponse()).status).toBe(204);
  });

  test('startPrepared sends the prepared lines as they are, with the server\'s persistence fields', async () => {
    const { response, client } = await open({ protocol: 'HTTP/1.0', minimalConnectionHeaders: true, version: 10, canKeepAlive: () => true });
    response.startPrepared({ code: 201, statusLine: 'HTTP/1.1 201 Made\r\n', lines: 'X-A: 1\r\nContent-Length: 2\r\n', contentLength: 2, close: false, hasDate: true, hasServer: false });
    response.write('ok');
    response.end();
    const seen = await client.readResponse();
    expect(seen.head).toBe('HTTP/1.0 201 Made\r\nX-A: 1\r\nContent-Length: 2\r\nServer: Test/1\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n\r\n');
  });

  test('abort and fail go to the owner; after abort nothing more is written', async () => {
    const { response, log } = await open();
    response.start('200 OK', []);
    response.fail(new Error('app failed'));
    expect(log.failed).toHaveLength(1);
    const reasons: unknown[] = [];
    response.onClose((reason) => reasons.push(reason));
    response.abort('gone');
    expect(log.aborted).toEqual(['gone']);
    response.cancel(new Error('closed'));
    expect(reasons).toHaveLength(1);
    expect(response.write('ignored')).toBe(true);
    expect(response.aborted).toBe(true);
  });
});
