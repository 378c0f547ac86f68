/**
 * The CherryPyWSGIServer surface: the constructor as ported code calls it, attributes on the
 * instance and the class, the lifecycle as promises (start/stop/prepare/serve/safe_start,
 * interrupts), attributes changed on a running server, the environ, stats, and the dispatcher.
 */

import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Environ, GatewayApp } from '@rocketserver/core';
import {
  BuiltinSSLAdapter,
  CherryPyWSGIServer,
  get_ssl_adapter_class,
  KeyboardInterrupt,
  PathInfoDispatcher,
  pyOpenSSLAdapter,
  SystemExit,
  WSGIPathInfoDispatcher,
  WSGIServer,
} from '@rocketserver/cherrypy-compat';
import { RawClient } from '../../packages/core/test/helpers/raw-client.js';

const running: CherryPyWSGIServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
  // Class-level assignments must not leak from one test into the next.
  CherryPyWSGIServer.ssl_certificate = null;
  CherryPyWSGIServer.version = CherryPyWSGIServer.version.startsWith('Rocket/') ? CherryPyWSGIServer.version : ROCKET_VERSION;
});
const ROCKET_VERSION = CherryPyWSGIServer.version;

const hello: GatewayApp = (environ, start) => {
  const body = `hello ${environ.PATH_INFO as string}`;
  start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]]);
  return [body];
};

/** A server on a free port, not yet started; stopped after the test. */
function make(...args: ConstructorParameters<typeof CherryPyWSGIServer>): CherryPyWSGIServer {
  const server = new CherryPyWSGIServer(...args);
  server.handle_signals = false;
  server.shutdown_timeout = 1;
  running.push(server);
  return server;
}

async function get(server: CherryPyWSGIServer, path = '/', extra = ''): Promise<{ status: number; body: string; statusLine: string; header(n: string): string | undefined }> {
  const client = await RawClient.connect((server.bind_addr as [string, number])[1]);
  await client.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}Connection: close\r\n\r\n`);
  const response = await client.readResponse();
  client.destroy();
  return { status: response.status, body: response.body.toString('latin1'), statusLine: response.statusLine, header: (n) => response.header(n) };
}

describe('the constructor', () => {
  test('positional (CherryPy order), then keywords in a trailing object', () => {
    const server = new CherryPyWSGIServer(['127.0.0.1', '8080'], hello, 4, 'www.example', 20, 50, { timeout: 3, shutdown_timeout: 2 });
    expect(server.bind_addr).toEqual(['127.0.0.1', 8080]);
    expect(server.wsgi_app).toBe(hello);
    expect([server.numthreads, server.server_name, server.max, server.request_queue_size, server.timeout, server.shutdown_timeout]).toEqual([4, 'www.example', 20, 50, 3, 2]);
    expect([server.accepted_queue_size, server.accepted_queue_timeout]).toEqual([-1, 10]);
  });

  test('every argument by name, as Bottle and WsgiDAV pass them; defaults are CherryPy’s', () => {
    const server = new CherryPyWSGIServer({ bind_addr: ['0.0.0.0', 80], wsgi_app: hello });
    expect([server.numthreads, server.server_name, server.max, server.request_queue_size, server.timeout, server.shutdown_timeout]).toEqual([10, null, -1, 5, 10, 5]);
    expect(WSGIServer).toBe(CherryPyWSGIServer);
    expect(PathInfoDispatcher).toBe(WSGIPathInfoDispatcher);
  });

  test('mistakes are named as Python names them', () => {
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 1], hello, { threads: 3 } as never)).toThrow("got an unexpected keyword argument 'threads'");
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 1], hello, { wsgi_app: hello })).toThrow("got multiple values for argument 'wsgi_app'");
    expect(() => new CherryPyWSGIServer({ wsgi_app: hello })).toThrow("missing required argument: 'bind_addr'");
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 'http'], hello)).toThrow('is not a port number');
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 1], 'app' as never)).toThrow('wsgi_app must be');
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 1], hello, { peercreds_enabled: true })).toThrow('SO_PEERCRED');
  });

  test('ported code hangs its own state on the server', () => {
    const server = make(['127.0.0.1', 0], hello);
    server.controller_queue = ['job'];
    expect(server.controller_queue).toEqual(['job']);
  });
});

describe('attributes', () => {
  test('class-level defaults reach every instance that does not set its own (web.py, WsgiDAV)', () => {
    CherryPyWSGIServer.ssl_certificate = 'ssl/server.crt';
    const a = make(['127.0.0.1', 0], hello);
    const b = make(['127.0.0.1', 0], hello);
    b.ssl_certificate = 'other.crt';
    expect(a.ssl_certificate).toBe('ssl/server.crt');
    expect(b.ssl_certificate).toBe('other.crt');
    class Custom extends CherryPyWSGIServer {
      static override version = 'Custom/1.0';
    }
    expect(new Custom(['127.0.0.1', 0], hello).version).toBe('Custom/1.0');
    expect(a.version).toBe(ROCKET_VERSION);
  });

  test('SSL adapters: builtin and pyopenssl by name, with a mutable context', () => {
    expect(get_ssl_adapter_class('builtin')).toBe(BuiltinSSLAdapter);
    expect(get_ssl_adapter_class('pyopenssl')).toBe(pyOpenSSLAdapter);
    expect(() => get_ssl_adapter_class('m2crypto')).toThrow('unknown SSL adapter');
    const adapter = new BuiltinSSLAdapter('cert.pem', 'key.pem', 'chain.pem');
    expect([adapter.certificate, adapter.private_key, adapter.certificate_chain, adapter.context.verify_mode]).toEqual(['cert.pem', 'key.pem', 'chain.pem', 'CERT_NONE']);
  });
});

describe('the lifecycle', () => {
  test('start() settles when the server stops; stop() is safe before start and twice', async () => {
    const server = make(['127.0.0.1', 0], hello);
    await server.stop();
    expect(server.ready).toBe(false);
    let settled = false;
    const started = server.start().then(() => (settled = true));
    await expect.poll(() => server.ready).toBe(true);
    expect((server.bind_addr as [string, number])[1]).toBeGreaterThan(0);
    expect((await get(server, '/x')).body).toBe('hello /x');
    expect(settled).toBe(false);
    await Promise.all([server.stop(), server.stop()]);
    await started;
    expect(settled).toBe(true);
    expect(server.ready).toBe(false);
    await server.stop();
  });

  test('prepare() binds (ready, the real port), serve() waits; five cycles leave nothing behind', async () => {
    const server = make(['127.0.0.1', 0], hello);
    for (let i = 0; i < 5; i++) {
      server.bind_addr = ['127.0.0.1', 0];
      await server.prepare();
      expect(server.ready).toBe(true);
      expect(server.socket?.getsockname()).toEqual(server.bind_addr);
      const served = server.serve();
      expect((await get(server)).status).toBe(200);
      await server.stop();
      await served;
    }
    await expect(server.serve()).resolves.toBeUndefined();
  });

  test('a port in use: start() rejects with "No socket could be created", and the server can start elsewhere', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const server = make(['127.0.0.1', port], hello);
    await expect(server.start()).rejects.toThrow(/^No socket could be created -- \(\('127\.0\.0\.1', \d+\): .*EADDRINUSE/);
    expect(server.ready).toBe(false);
    await server.stop();
    blocker.close();
    server.bind_addr = ['127.0.0.1', 0];
    const started = server.start();
    await expect.poll(() => server.ready).toBe(true);
    await server.stop();
    await started;
  });

  test.each([
    ['an instance', () => new KeyboardInterrupt(), KeyboardInterrupt],
    ['a class (AspenWeb: server.interrupt = SystemExit)', () => SystemExit, SystemExit],
  ])('interrupt = %s stops the server; start() rejects with it', async (_name, value, type) => {
    const server = make(['127.0.0.1', 0], hello);
    const messages: [string, number][] = [];
    server.error_log = (msg = '', level = 20) => void messages.push([msg, level]);
    const started = server.start();
    await expect.poll(() => server.ready).toBe(true);
    server.interrupt = value() as never;
    await expect(started).rejects.toBeInstanceOf(type);
    expect(server.ready).toBe(false);
    expect(server.interrupt).toBeInstanceOf(type);
    expect(messages).toContainEqual([type === KeyboardInterrupt ? 'Keyboard Interrupt: shutting down' : 'SystemExit raised: shutting down', 20]);
  });

  test('an app that throws KeyboardInterrupt shuts the server down (the request gets a 500)', async () => {
    const server = make(['127.0.0.1', 0], (environ, start) => {
      if (environ.PATH_INFO === '/stop') throw new KeyboardInterrupt();
      return hello(environ, start);
    });
    server.error_log = () => {};
    const started = server.safe_start();
    await expect.poll(() => server.ready).toBe(true);
    expect((await get(server, '/stop')).status).toBe(500);
    await expect(started).rejects.toBeInstanceOf(KeyboardInterrupt);
    expect(server.ready).toBe(false);
  });

  test('other app errors are a logged 500 and the server keeps serving', async () => {
    const server = make(['127.0.0.1', 0], (environ, start) => {
      if (environ.PATH_INFO === '/fail') throw new Error('boom');
      return hello(environ, start);
    });
    const messages: [string, number][] = [];
    server.error_log = (msg = '', level = 20) => void messages.push([msg, level]);
    void server.start();
    await expect.poll(() => server.ready).toBe(true);
    expect((await get(server, '/fail')).status).toBe(500);
    expect((await get(server, '/ok')).status).toBe(200);
    expect(messages.some(([msg, level]) => level === 40 && msg.includes('boom'))).toBe(true);
    // A normal request logs nothing above INFO.
    expect(messages.filter(([msg, level]) => level >= 30 && !msg.includes('boom'))).toEqual([]);
  });
});

describe('a running server reads its attributes on the next request', () => {
  test('wsgi_app assigned after start (cheroot’s test fixtures); max_request_body_size; protocol', async () => {
    const server = make(['127.0.0.1', 0], null);
    void server.start();
    await expect.poll(() => server.ready).toBe(true);
    server.error_log = () => {};
    expect((await get(server)).status).toBe(500);
    server.wsgi_app = hello;
    expect((await get(server)).body).toBe('hello /');
    server.max_request_body_size = 10;
    const client = await RawClient.connect((server.bind_addr as [string, number])[1]);
    await client.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n');
    const refused = await client.readResponse();
    expect(refused.status).toBe(413);
    expect(refused.body.toString()).toBe('The entity sent with the request exceeds the maximum allowed bytes.');
    server.protocol = 'HTTP/1.0';
    expect((await get(server)).statusLine).toBe('HTTP/1.0 200 OK');
    server.version = 'Renamed/2.0';
    expect((await get(server)).header('server')).toBe('Renamed/2.0');
  });
});

describe('the environ', () => {
  test('server-level entries, SERVER_SOFTWARE, ACTUAL_SERVER_PROTOCOL, wsgi.input_terminated, OPTIONS *', async () => {
    const seen: Environ[] = [];
    const server = make(['127.0.0.1', 0], (environ, start) => {
      seen.push(environ);
      return hello(environ, start);
    }, { server_name: 'www.example' });
    server.environ = { 'myapp.config': 'production', SERVER_NAME: 'never wins' };
    void server.start();
    await expect.poll(() => server.ready).toBe(true);
    await get(server, '/a');
    const client = await RawClient.connect((server.bind_addr as [string, number])[1]);
    await client.write('OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await client.readResponse()).status).toBe(200);
    client.destroy();
    const [a, star] = seen;
    expect(a).toMatchObject({
      'myapp.config': 'production',
      SERVER_NAME: 'www.example',
      SERVER_SOFTWARE: `${ROCKET_VERSION} Server`,
      ACTUAL_SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      'wsgi.input_terminated': true,
    });
    expect(star).toMatchObject({ REQUEST_URI: '*', PATH_INFO: '/*' });
  });

  test('stats has CherryPy’s keys; requests shows the pool', async () => {
    const server = make(['127.0.0.1', 0], hello, 3);
    server.stats.Enabled = true;
    void server.start();
    await expect.poll(() => server.ready).toBe(true);
    await get(server);
    await expect.poll(() => server.stats.Requests).toBe(1);
    expect(server.stats).toMatchObject({ Enabled: true, Accepts: 1, Threads: 3, Queue: 0 });
    expect(Object.keys(server.stats)).toEqual(expect.arrayContaining(['Bind Address', 'Run time', 'Accepts/sec', 'Threads Idle', 'Socket Errors']));
    expect(server.requests.min).toBe(3);
    expect(server.requests.max).toBe(-1);
    expect(server.requests.qsize).toBe(0);
  });
});

describe('bind_addr forms', () => {
  test("'' serves every interface; a string is a UNIX socket path", async () => {
    const all = make(['', 0], hello);
    void all.start();
    await expect.poll(() => all.ready).toBe(true);
    expect((await get(all)).status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'cherrypy-'));
    try {
      const path = join(dir, 'server.sock');
      const unix = make(path, hello);
      void unix.start();
      await expect.poll(() => unix.ready).toBe(true);
      expect(unix.bind_addr).toBe(path);
      const socket = net.connect(path);
      socket.write('GET /u HTTP/1.0\r\n\r\n');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      await new Promise((resolve) => socket.on('close', resolve));
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*hello \/u$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WSGIPathInfoDispatcher (cherrypy.md §3.1)', () => {
  const seen = (name: string): GatewayApp => (environ, start) => {
    start('200 OK', []);
    return [`${name} ${JSON.stringify(environ.SCRIPT_NAME ?? null)} ${JSON.stringify(environ.PATH_INFO)}`];
  };
  const call = (app: GatewayApp, environ: Record<string, unknown>) => {
    let status = '';
    const body = app(environ as Environ, ((s: string) => {
      status = s;
      return () => {};
    }) as never) as string[];
    return { status, body: body.join('') };
  };
  const site = { '/': seen('A'), '/blog': seen('B') };

  test.each([
    [site, '/blog', 'B "/blog" ""'],
    [site, '/blog/', 'B "/blog" "/"'],
    [site, '/blog/x/y', 'B "/blog" "/x/y"'],
    [site, '/blogger', 'A "" "/blogger"'],
    [site, '/', 'A "" "/"'],
    [site, '', 'A "" "/"'],
    [{ '/a': seen('A'), '/a/b': seen('B') }, '/a/b/c', 'B "/a/b" "/c"'],
  ])('%o with PATH_INFO %j → %s', (apps, path, expected) => {
    expect(call(WSGIPathInfoDispatcher(apps), { SCRIPT_NAME: '', PATH_INFO: path }).body).toBe(expected);
  });

  test('nothing matches: 404, text/plain, Content-Length 0, an empty body; SCRIPT_NAME may be missing or set', () => {
    expect(call(WSGIPathInfoDispatcher({ '/blog': seen('B') }), { PATH_INFO: '/' })).toEqual({ status: '404 Not Found', body: '' });
    expect(call(WSGIPathInfoDispatcher([['/', seen('A')]]), { PATH_INFO: '/foo' }).body).toBe('A "" "/foo"');
    expect(call(WSGIPathInfoDispatcher({ '/blog': seen('B') }), { SCRIPT_NAME: '/root', PATH_INFO: '/blog/x' }).body).toBe('B "/root/blog" "/x"');
  });
});
