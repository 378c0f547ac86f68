/**
 * A connection's output (src/engine/output.ts) on a real loopback socket: a batch's text leaves in
 * one write, a Buffer or text past BATCH_TEXT_LIMIT goes out at once and in order, and nothing is
 * written to a destroyed socket.
 */

import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { BATCH_TEXT_LIMIT, Output } from '../../src/engine/output.js';

const open: net.Socket[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  for (const socket of open.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The accepted end of a loopback connection, and everything its peer will have received once it ends. */
async function pair(): Promise<{ socket: net.Socket; received: Promise<string> }> {
  const server = net.createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  open.push(client);
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  const received = once(client, 'end').then(() => Buffer.concat(chunks).toString('latin1'));
  const [socket] = await accepted;
  open.push(socket);
  return { socket, received };
}

describe('Output', () => {
  test('the text of a batch leaves in one write when the batch ends', async () => {
    const { socket, received } = await pair();
    const write = vi.spyOn(socket, 'write');
    const output = new Output(socket);
    output.beginBatch();
    output.send('HTTP/1.1 200 OK\r\n\r\na');
    output.send('HTTP/1.1 200 OK\r\n\r\nb');
    expect(write).not.toHaveBeenCalled();
    output.endBatch();
    expect(write).toHaveBeenCalledTimes(1);
    output.send('c');
    expect(write).toHaveBeenCalledTimes(2);
    socket.end();
    expect(await received).toBe('HTTP/1.1 200 OK\r\n\r\naHTTP/1.1 200 OK\r\n\r\nbc');
  });

  test('a Buffer in a batch goes out after the text gathered before it, in order', async () => {
    const { socket, received } = await pair();
    const output = new Output(socket);
    output.beginBatch();
    output.send('head;');
    output.send(Buffer.from('body;'));
    output.send('tail');
    output.endBatch();
    socket.end();
    expect(await received).toBe('head;body;tail');
  });

  test('text past BATCH_TEXT_LIMIT is written at once, so backpressure sees it', async () => {
    const { socket, received } = await pair();
    const write = vi.spyOn(socket, 'write');
    const output = new Output(socket);
    output.beginBatch();
    output.send('x'.repeat(BATCH_TEXT_LIMIT - 1));
    expect(write).not.toHaveBeenCalled();
    output.send('yz');
    expect(write).toHaveBeenCalledTimes(1);
    output.send('!');
    output.flush();
    expect(write).toHaveBeenCalledTimes(2);
    output.endBatch();
    expect(write).toHaveBeenCalledTimes(2);
    socket.end();
    expect(await received).toBe(`${'x'.repeat(BATCH_TEXT_LIMIT - 1)}yz!`);
  });

  test('text is sent as latin1, byte for byte', async () => {
    const { socket, received } = await pair();
    const output = new Output(socket);
    output.send('\xe9\xff');
    socket.end();
    expect(Buffer.from(await received, 'latin1')).toEqual(Buffer.from([0xe9, 0xff]));
  });

  test('nothing is written to a destroyed socket; with nothing queued, no progress is reported', async () => {
    const { socket } = await pair();
    const output = new Output(socket);
    output.markUnsent();
    expect(output.progressed()).toBe(false);
    socket.destroy();
    const write = vi.spyOn(socket, 'write');
    output.send('late');
    output.beginBatch();
    output.send('later');
    output.endBatch();
    expect(write).not.toHaveBeenCalled();
  });
});
