/**
 * A `Response` on its own, over a real loopback connection: the server end of the socket carries
 * what the response writes, and a `RawClient` at the other end reads it back as a client would.
 * The owner records what the response tells its exchange.
 */

import net from 'node:net';
import { once } from 'node:events';
import { Response, type ResponseOwner } from '../../src/gateway/response.js';
import { RawClient } from './raw-client.js';

export interface OwnerLog {
  ended: boolean[];
  warnings: string[];
  aborted: unknown[];
  failed: unknown[];
  continues: number;
}

export interface ResponsePair {
  response: Response;
  client: RawClient;
  log: OwnerLog;
  /** The server end, for tests that end or destroy it. */
  socket: net.Socket;
  close(): Promise<void>;
}

/** A fresh response on a fresh loopback connection; `owner` overrides the defaults (HTTP/1.1, GET, hint `timeout=5`). */
export async function responsePair(owner: Partial<ResponseOwner> = {}): Promise<ResponsePair> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = await RawClient.connect((server.address() as net.AddressInfo).port);
  const [socket] = await accepted;
  const log: OwnerLog = { ended: [], warnings: [], aborted: [], failed: [], continues: 0 };
  const full: ResponseOwner = {
    socket,
    isHead: false,
    version: 11,
    keepAliveHint: 'timeout=5',
    serverSoftware: 'Test/1',
    protocol: 'HTTP/1.1',
    minimalConnectionHeaders: false,
    canKeepAlive: () => true,
    responseEnded: (keepAlive) => void log.ended.push(keepAlive),
    warn: (message) => void log.warnings.push(message),
    send: (data) => {
      if (typeof data === 'string') socket.write(data, 'latin1');
      else socket.write(data);
    },
    responseAborted: (reason) => void log.aborted.push(reason),
    responseFailed: (error) => void log.failed.push(error),
    continueSent: () => void log.continues++,
    writeBlocked: () => {},
    writeResumed: () => {},
    ...owner,
  };
  // The owner's socket is the accepted one, whatever the overrides say.
  const response = new Response({ ...full, socket });
  return {
    response,
    client,
    log,
    socket,
    close: async () => {
      client.destroy();
      socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
