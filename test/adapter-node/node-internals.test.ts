// The private parts of Node's HTTP objects the bridge relies on (packages/adapter-node/src/node-internals.ts),
// checked against the running Node. A failure here means a Node version changed one of them: the
// bridge must follow before anything else is trusted.
import http from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { kNeedDrain } from '../../packages/adapter-node/src/node-internals.js';

/** A ServerResponse on a socket that records what Node writes to it, as the bridge socket is written. */
function response(method = 'GET'): { req: http.IncomingMessage; res: http.ServerResponse; writes: { data: unknown; encoding: unknown; callback: boolean }[]; socket: Writable } {
  const writes: { data: unknown; encoding: unknown; callback: boolean }[] = [];
  const socket = new Writable({ write: (_c, _e, cb) => cb() });
  socket.write = ((data: unknown, encoding: unknown, callback: unknown) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    writes.push({ data, encoding: typeof encoding === 'function' ? undefined : encoding, callback: typeof done === 'function' });
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as Writable['write'];
  const req = new http.IncomingMessage(socket as unknown as Socket);
  req.method = method;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const res = new http.ServerResponse(req);
  res.assignSocket(socket as unknown as Socket);
  return { req, res, writes, socket };
}

describe("Node's HTTP internals the bridge uses", () => {
  it('IncomingMessage has _addHeaderLines, _dump, _consuming and _readableState.resumeScheduled', () => {
    const req = new http.IncomingMessage(new PassThrough() as unknown as Socket) as unknown as Record<string, unknown> & http.IncomingMessage;
    expect(typeof req._addHeaderLines).toBe('function');
    expect(typeof req._dump).toBe('function');
    expect(req._consuming).toBe(false);
    expect((req._readableState as { resumeScheduled: boolean }).resumeScheduled).toBe(false);
    (req._addHeaderLines as (h: string[], n: number) => void)(['Host', 'a', 'X-One', '1', 'x-one', '2'], 6);
    expect(req.rawHeaders).toEqual(['Host', 'a', 'X-One', '1', 'x-one', '2']);
    expect(req.headers['x-one']).toBe('1, 2');
  });

  it("ServerResponse finds its 'drain is owed' flag by the description kNeedDrain", () => {
    expect(kNeedDrain).toBeTypeOf('symbol');
    const { res } = response();
    expect((res as unknown as Record<symbol, unknown>)[kNeedDrain!]).toBe(false);
  });

  it('assignSocket sets socket._httpMessage and res.socket; detachSocket clears both', () => {
    const { res, socket } = response();
    expect((socket as unknown as { _httpMessage: unknown })._httpMessage).toBe(res);
    expect(res.socket).toBe(socket);
    res.detachSocket(socket as unknown as Socket);
    expect((socket as unknown as { _httpMessage: unknown })._httpMessage).toBe(null);
    expect(res.socket).toBe(null);
  });

  it('_headerSent is false after writeHead alone, and already true when Node writes its head to the socket', () => {
    const { res, socket } = response();
    const internal = res as unknown as { _header: string | null; _headerSent: boolean };
    const seen: boolean[] = [];
    const write = socket.write;
    socket.write = ((...args: unknown[]) => {
      seen.push(internal._headerSent);
      return (write as (...rest: unknown[]) => boolean)(...args);
    }) as Writable['write'];
    res.writeHead(200, { 'Content-Length': '2' });
    expect(internal._header).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(internal._headerSent).toBe(false);
    res.end(Buffer.from('ok'));
    expect(seen[0]).toBe(true);
  });

  it('_header is the serialised head once writeHead ran, and the first text chunk is written behind it in one string', () => {
    const { res, writes } = response();
    const internal = res as unknown as { _header: string | null; _closed: boolean };
    expect(internal._header).toBe(null);
    expect(internal._closed).toBe(false);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 });
    expect(internal._header).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 5\r\n[^]*\r\n\r\n$/);
    res.end('hello');
    expect(writes[0]!.data).toBe(`${internal._header}hello`);
  });

  it('a first body chunk of bytes is written after the head, which is written alone as latin1 text', () => {
    const { res, writes } = response();
    res.writeHead(200, { 'Content-Length': 3 });
    res.end(Buffer.from('abc'));
    expect(writes[0]).toMatchObject({ data: (res as unknown as { _header: string })._header, encoding: 'latin1' });
    expect(Buffer.isBuffer(writes[1]!.data)).toBe(true);
  });

  it("end(chunk) writes the chunk, and 'finish' comes from the callback of the last write to the socket", async () => {
    const { res, writes } = response();
    res.writeHead(200, { 'Content-Length': 2 });
    let finished = false;
    res.once('finish', () => (finished = true));
    res.end('ok');
    // Node 20 writes an empty string after the chunk for the callback; Node 24 gives the chunk's own write the callback.
    expect(writes.map((w) => w.data).join('')).toBe(`${(res as unknown as { _header: string })._header}ok`);
    expect(writes.at(-1)!.callback).toBe(true);
    expect(finished).toBe(false);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(finished).toBe(true);
  });
});
