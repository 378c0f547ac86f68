/**
 * cheroot's acceptance checklist (reference cherrypy.md §6), one test per item, against
 * `@rocketserver/cherrypy-compat` over real loopback sockets: what a client sees on the wire.
 *
 *   §6.1 test_core   C1–C22      §6.2 test_conn   K1–K24
 *   §6.3 test_server, test_wsgi, test_dispatch: S1–S13, W1–W3, D1
 *   §6.4 test_ssl    T1–T9       §6.5 rules not covered by a cheroot test
 *
 * Python-only items (CLI1, CLI2, M1, S9, T10) have no test. Where Rocket deliberately differs
 * from cheroot, the test asserts Rocket's behaviour and its name says "(differs from cheroot: …)".
 */

import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  BuiltinSSLAdapter,
  CherryPyWSGIServer,
  KeyboardInterrupt,
  SystemExit,
  WSGIPathInfoDispatcher,
  pyOpenSSLAdapter,
  type SSLAdapter,
} from '@rocketserver/cherrypy-compat';
import type { Environ, GatewayApp } from '@rocketserver/core';
import { parseResponse, type RawResponse } from '../../packages/core/test/helpers/raw-client.js';
import { makeCerts, type TestCerts } from '../../packages/core/test/helpers/certs.js';
import {
  RawClient,
  controller,
  errorsLogged,
  expectSimplePrefix,
  munge,
  request,
  simple,
  sleep,
  startServer,
  track,
  untilClosed,
  within,
  type Handler,
  type Harness,
} from './helpers.js';

// ---------------------------------------------------------------------------------------------
// The apps of cheroot's tests
// ---------------------------------------------------------------------------------------------

const hello: Handler = () => 'Hello world!';

/** test_core's HelloController. */
const coreHandlers: Record<string, Handler> = {
  '/hello': hello,
  '/no_body': hello,
  '/body_required': (environ, resp) => {
    if (environ['Content-Length'] === undefined) {
      resp.status = '411 Length Required';
      return undefined;
    }
    return 'Hello world!';
  },
  '/query_string': (environ) => environ.QUERY_STRING,
  [munge('/привіт')]: hello,
  [munge('/Юххууу')]: hello,
  '/\xa0\xd0blah key 0 900 4 data': hello,
  '/*': (environ) => `Got asterisk URI path with ${environ.REQUEST_METHOD} method`,
};

/** test_core's fixture: the app and `max_request_body_size = 30000000` on the running server. */
function coreServer(extra: Record<string, Handler> = {}): Promise<Harness> {
  return startServer(null, (server) => {
    server.wsgi_app = controller({ ...coreHandlers, ...extra });
    server.max_request_body_size = 30000000;
  });
}

const POV = 'pPeErRsSiIsStTeEnNcCeE oOfF vViIsSiIoOnN';
const TIMEOUT = 1;

/** test_conn's Controller. */
function connHandlers(server: CherryPyWSGIServer): Record<string, Handler> {
  return {
    '/hello': () => 'Hello, world!',
    '/pov': () => POV,
    '/page1': () => POV,
    '/page2': () => POV,
    '/page3': () => POV,
    '/stream': (environ, resp) => {
      if (environ.QUERY_STRING.includes('set_cl')) resp.headers.push(['Content-Length', '10']);
      return (function* content() {
        for (let x = 0; x < 10; x++) yield String(x);
      })();
    },
    '/upload': async (environ) => {
      if (environ.REQUEST_METHOD !== 'POST') throw new Error(`'POST' != request.method ${environ.REQUEST_METHOD}`);
      const body = await environ['wsgi.input'].read();
      return `thanks for '${body.toString('latin1')}'`;
    },
    '/custom/204': (_environ, resp) => {
      resp.status = '204';
      return 'Code = 204';
    },
    '/custom/304': (_environ, resp) => {
      resp.status = '304';
      return 'Code = 304';
    },
    '/err_before_read': (_environ, resp) => {
      resp.status = '500 Internal Server Error';
      return 'ok';
    },
    '/one_megabyte_of_a': () => Array.from({ length: 1024 }, () => 'a'.repeat(1024)),
    '/wrong_cl_buffered': (_environ, resp) => {
      resp.headers.push(['Content-Length', '5']);
      return 'I have too many bytes';
    },
    // cheroot returns a list and writes it chunk by chunk; a Rocket list is one known-length
    // write, so the unbuffered case is an iterator of the same two chunks.
    '/wrong_cl_unbuffered': (_environ, resp) => {
      resp.headers.push(['Content-Length', '5']);
      return ['I too', ' have too many bytes'][Symbol.iterator]();
    },
    '/timeout': () => String(server.timeout),
  };
}

/** test_conn's fixture: `timeout=1`, `max_request_body_size=1001`, `keep_alive_conn_limit=2`. */
function connServer(extra: Record<string, Handler> = {}): Promise<Harness> {
  return startServer(
    null,
    (server) => {
      server.wsgi_app = controller({ ...connHandlers(server), ...extra });
      server.max_request_body_size = 1001;
      server.timeout = TIMEOUT;
      server.keep_alive_conn_limit = 2;
    },
    { args: { timeout: TIMEOUT } },
  );
}

/** cheroot's error-log monitor: nothing above WARNING. */
function expectQuietLog(h: Harness): void {
  expect(errorsLogged(h.logs)).toEqual([]);
}

async function get(client: RawClient, target: string, headers: string[] = [], protocol = 'HTTP/1.1') {
  await client.write(request('GET', target, headers, protocol));
  return client.readResponse();
}

// ---------------------------------------------------------------------------------------------
// §6.1 test_core.py
// ---------------------------------------------------------------------------------------------

describe('§6.1 test_core: request parsing', () => {
  test('C1: CONNECT gets the simple response 405 Method Not Allowed (not a proxy), then the server closes', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('CONNECT', '/anything'));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '405 Method Not Allowed'));
  });

  test('C2: GET /hello gives 200 "Hello world!" with the Controller\'s headers', async () => {
    const h = await coreServer();
    const c = await h.connect();
    const r = await get(c, '/hello');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.body.toString('latin1')).toBe('Hello world!');
    expect(r.header('Content-Type')).toBe('text/html');
    expect(r.header('Content-Length')).toBe('12');
  });

  test('C3: QUERY_STRING is passed through undecoded: GET /query_string?test=True gives "test=True"', async () => {
    const h = await coreServer();
    const c = await h.connect();
    const r = await get(c, '/query_string?test=True');
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('test=True');
    const q = await get(c, '/query_string?a=%20b%2Fc&d=%D1%97');
    expect(q.body.toString('latin1')).toBe('a=%20b%2Fc&d=%D1%97');
  });

  test('C4: acceptable URIs all give 200; a percent-encoded UTF-8 path reaches PATH_INFO as its bytes in latin-1', async () => {
    const h = await coreServer();
    const c = await h.connect();
    const unicode = `/${encodeURIComponent('Юххууу')}?${encodeURIComponent('ї')}=${encodeURIComponent('йо')}`;
    expect(unicode).toBe('/%D0%AE%D1%85%D1%85%D1%83%D1%83%D1%83?%D1%97=%D0%B9%D0%BE');
    for (const uri of ['/hello', '/query_string?test=True', unicode]) {
      const r = await get(c, uri);
      expect(r.status, uri).toBe(200);
    }
  });

  test('C5: GET /%A0%D0blah%20key%200%20900%204%20data without Host gives 200 "Hello world!" (no injection; no Host is fine)', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write('GET /%A0%D0blah%20key%200%20900%204%20data HTTP/1.1\r\n\r\n');
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Hello world!');
  });

  test('C6: raw UTF-8 bytes in the target give 400 "Malformed Request-URI…"', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(Buffer.from('GET /йопта! HTTP/1.1\r\n\r\n', 'utf8'));
    await expectSimplePrefix(c, 'HTTP/1.1', '400 Bad Request', 'Malformed Request-URI');
  });

  test.each([['hello'], [encodeURIComponent('привіт')]])('C7: a target without a leading slash (%s) gives 400 "…starting with a slash…"', async (target) => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('GET', target));
    const message =
      'Invalid path in Request-URI: request-target must contain origin-form which starts with absolute-path (URI starting with a slash "/").';
    expect(message).toContain('starting with a slash');
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', message));
  });

  test('C8: an absolute-form target is refused: 400 "Absolute URI not allowed if server is not a proxy." (differs from cheroot: the answer also carries Date and Server)', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('GET', 'http://google.com/'));
    const r = await c.readResponse();
    expect(r.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(r.header('Content-Type')).toBe('text/plain');
    expect(r.header('Connection')).toBe('close');
    expect(r.body.toString('latin1')).toBe('Absolute URI not allowed if server is not a proxy.');
    await c.waitEnd();
  });

  test('C9: OPTIONS * gives 200 "Got asterisk URI path with OPTIONS method"; PATH_INFO is "/*", REQUEST_URI "*"', async () => {
    const seen: { path?: string; uri?: string } = {};
    const h = await coreServer({
      '/*': (environ) => {
        seen.path = environ.PATH_INFO;
        seen.uri = environ.REQUEST_URI;
        return `Got asterisk URI path with ${environ.REQUEST_METHOD} method`;
      },
    });
    const c = await h.connect();
    await c.write(request('OPTIONS', '*'));
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Got asterisk URI path with OPTIONS method');
    expect(seen).toEqual({ path: '/*', uri: '*' });
  });

  test('C10: a #fragment in the target gives 400 "Illegal #fragment in Request-URI."', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('GET', '/hello?test=something#fake'));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'Illegal #fragment in Request-URI.'));
  });

  test('C11: POST without Content-Length or body has an empty body: 200 "Hello world!", no 411', async () => {
    let input: Buffer | null = null;
    const h = await coreServer({
      '/no_body': async (environ) => {
        input = await environ['wsgi.input'].read();
        return 'Hello world!';
      },
    });
    const c = await h.connect();
    await c.write(request('POST', '/no_body'));
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Hello world!');
    expect(input).toEqual(Buffer.alloc(0));
  });

  test("C12: the app's own 411 (environ['Content-Length'] never exists) reaches the client", async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('POST', '/body_required'));
    const r = await c.readResponse();
    expect(r.status).toBe(411);
    expect(r.reason).toBe('Length Required');
  });

  test('C13: Content-Length 18446744073709551616 (above Number.MAX_SAFE_INTEGER) with default limits gives 413', async () => {
    const h = await startServer(controller(coreHandlers));
    const c = await h.connect();
    await c.write(request('GET', '/hello', ['Content-Length: 18446744073709551616']));
    const r = await c.readResponse();
    expect(r.status).toBe(413);
    await c.waitEnd();
  });

  test.each([
    ['C14', 'GET /', '400 Bad Request', 'Malformed Request-Line'],
    ['C15', 'GET / HTTPS/1.1', '400 Bad Request', 'Malformed Request-Line: bad protocol'],
    ['C16', 'GET / HTTP/1', '400 Bad Request', 'Malformed Request-Line: bad version'],
    ['C17', 'GET / HTTP/2.15', '505 HTTP Version Not Supported', 'Cannot fulfill request'],
    ['C17b', 'GET / HTTP/0.9', '505 HTTP Version Not Supported', ''],
    ['C17b', 'GET / HTTP/1.x', '400 Bad Request', 'Malformed Request-Line'],
  ])('%s: request line %j gives the simple response %s %j', async (_id, line, status, message) => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(`${line}\r\n\r\n`);
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', status, message));
  });

  test('C18: a lowercase method gives 400 "Malformed method name: …"; an unknown uppercase method reaches the app', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('GeT', '/malformed_method_case', ['Content-Type: text/plain']));
    const message =
      'Malformed method name: According to RFC 2616 (section 5.1.1) and its successors RFC 7230 (section 3.1.1) and RFC 7231 (section 4.1) method names are case-sensitive and uppercase.';
    // (differs from cheroot: the answer also carries Date and Server)
    const refused = await c.readResponse();
    expect(refused.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(refused.header('Connection')).toBe('close');
    expect(refused.body.toString('latin1')).toBe(message);
    await c.waitEnd();

    const d = await h.connect();
    await d.write(request('PROPFIND', '/hello'));
    const r = await d.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Hello world!');
  });

  test('C19: a header line without a colon gives 400 "Illegal header line."', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(request('GET', '/', ['Content-Type: text/plain', 'Re, 1.2.3.4#015#012']));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'Illegal header line.'));
  });

  test('C20: a request line of exactly 256 bytes (CRLF included) gives 200 "Hello world!"', async () => {
    const uri =
      '/hello?' +
      'intervenant-entreprise-evenement_classaction=' +
      'evenement-mailremerciements' +
      '&_path=intervenant-entreprise-evenement' +
      '&intervenant-entreprise-evenement_action-id=19404' +
      '&intervenant-entreprise-evenement_id=19404' +
      '&intervenant-entreprise_id=28092';
    expect(`GET ${uri} HTTP/1.1\r\n`.length).toBe(256);
    const h = await coreServer();
    const c = await h.connect();
    const r = await get(c, uri);
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Hello world!');
  });

  test('C21: garbage gives 400 "Malformed Request-Line"', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write('gjkgjklsgjklsgjkljklsg\r\n\r\n');
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'Malformed Request-Line'));
  });

  test("C22: a write() inside the body's close() is part of the (chunked) body: body \"hello\"", async () => {
    const app: GatewayApp = (_environ, start) => {
      const write = start('200 OK', [['Content-Type', 'text/html']]);
      return {
        *[Symbol.iterator]() {},
        close() {
          write('hello');
        },
      };
    };
    const h = await startServer(app, (server) => {
      server.max_request_body_size = 30000000;
    });
    const c = await h.connect();
    const r = await get(c, '/');
    expect(r.status).toBe(200);
    expect(r.header('Content-Length')).toBeUndefined();
    expect(r.framing).toBe('chunked');
    expect(r.body.toString('latin1')).toBe('hello');
  });
});

// ---------------------------------------------------------------------------------------------
// §6.2 test_conn.py
// ---------------------------------------------------------------------------------------------

describe('§6.2 test_conn: connection handling (timeout=1, max_request_body_size=1001, keep_alive_conn_limit=2)', () => {
  test('K1: persistent HTTP/1.1 has no Connection header; "Connection: close" is echoed and the server closes', async () => {
    const h = await connServer();
    const c = await h.connect();
    for (const path of ['/pov', '/page1']) {
      const r = await get(c, path);
      expect(r.statusLine).toBe('HTTP/1.1 200 OK');
      expect(r.body.toString('latin1')).toBe(POV);
      expect(r.header('Connection')).toBeUndefined();
    }
    const r = await get(c, '/page2', ['Connection: close']);
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.body.toString('latin1')).toBe(POV);
    expect(r.header('Connection')).toBe('close');
    expect(await untilClosed(c)).toBe('');
    expectQuietLog(h);
  });

  test('K2: a streamed HTTP/1.1 body with the app\'s Content-Length: no Transfer-Encoding, no "Connection: close", stays open', async () => {
    const h = await connServer();
    const c = await h.connect();
    expect((await get(c, '/pov')).header('Connection')).toBeUndefined();
    const r = await get(c, '/stream?set_cl=Yes');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.header('Content-Length')).toBe('10');
    expect(r.header('Transfer-Encoding')).toBeUndefined();
    expect(r.header('Connection')).not.toBe('close');
    expect(r.body.toString('latin1')).toBe('0123456789');
    const again = await get(c, '/pov');
    expect(again.body.toString('latin1')).toBe(POV);
    expectQuietLog(h);
  });

  test('K3: a streamed HTTP/1.1 body without Content-Length is chunked; HEAD of it has no body and no Transfer-Encoding', async () => {
    const h = await connServer();
    const c = await h.connect();
    await get(c, '/pov');
    const r = await get(c, '/stream');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.header('Content-Length')).toBeUndefined();
    expect(r.header('Transfer-Encoding')).toBe('chunked');
    expect(r.header('Connection')).not.toBe('close');
    expect(r.body.toString('latin1')).toBe('0123456789');

    await c.write(request('HEAD', '/stream'));
    const head = await c.readResponse({ head: true });
    expect(head.statusLine).toBe('HTTP/1.1 200 OK');
    expect(head.header('Transfer-Encoding')).toBeUndefined();
    if (head.header('Connection') === 'close') {
      // cheroot closes here; then nothing may follow the head.
      expect(await untilClosed(c)).toBe('');
    } else {
      // Kept open: no body bytes after the head, so the next response parses cleanly.
      const next = await get(c, '/pov');
      expect(next.statusLine).toBe('HTTP/1.1 200 OK');
      expect(next.body.toString('latin1')).toBe(POV);
    }
    expectQuietLog(h);
  });

  test('K4: server protocol HTTP/1.0, client HTTP/1.0 with Keep-Alive: "Connection: Keep-Alive" and "Keep-Alive: timeout=1", Content-Length, stays open', async () => {
    const h = await connServer();
    h.server.protocol = 'HTTP/1.0';
    const c = await h.connect();
    const first = await get(c, '/pov', ['Connection: Keep-Alive'], 'HTTP/1.0');
    expect(first.statusLine).toBe('HTTP/1.0 200 OK');
    expect(first.body.toString('latin1')).toBe(POV);
    expect(first.header('Connection')).toBe('Keep-Alive');
    expect(first.header('Keep-Alive')).toBe('timeout=1');

    const r = await get(c, '/stream?set_cl=Yes', ['Connection: Keep-Alive'], 'HTTP/1.0');
    expect(r.statusLine).toBe('HTTP/1.0 200 OK');
    expect(r.body.toString('latin1')).toBe('0123456789');
    expect(r.header('Content-Length')).toBe('10');
    expect(r.header('Connection')).toBe('Keep-Alive');
    expect(r.header('Keep-Alive')).toBe('timeout=1');
    expect(r.header('Transfer-Encoding')).toBeUndefined();

    const again = await get(c, '/pov', ['Connection: Keep-Alive'], 'HTTP/1.0');
    expect(again.body.toString('latin1')).toBe(POV);
    expectQuietLog(h);
  });

  test('K5: HTTP/1.0 streamed without Content-Length: no Content-Length, no Keep-Alive, no Transfer-Encoding; the server closes', async () => {
    const h = await connServer();
    h.server.protocol = 'HTTP/1.0';
    const c = await h.connect();
    expect((await get(c, '/pov', ['Connection: Keep-Alive'], 'HTTP/1.0')).header('Connection')).toBe('Keep-Alive');
    const r = await get(c, '/stream', ['Connection: Keep-Alive'], 'HTTP/1.0');
    expect(r.statusLine).toBe('HTTP/1.0 200 OK');
    expect(r.body.toString('latin1')).toBe('0123456789');
    expect(r.header('Content-Length')).toBeUndefined();
    expect(r.header('Connection')).not.toBe('Keep-Alive');
    expect(r.header('Transfer-Encoding')).toBeUndefined();
    await c.waitEnd();
    expectQuietLog(h);
  });

  test.each([['HTTP/1.0' as const], ['HTTP/1.1' as const]])('K6: keep-alive on HTTP/1.0 requests (server protocol %s)', async (protocol) => {
    const h = await connServer();
    h.server.protocol = protocol;

    // (a) A plain HTTP/1.0 request: no Connection header, then close.
    const a = await h.connect();
    const plain = await get(a, '/page2', [], 'HTTP/1.0');
    expect(plain.statusLine).toBe(`${protocol} 200 OK`);
    expect(plain.body.toString('latin1')).toBe(POV);
    expect(plain.header('Connection')).toBeUndefined();
    await a.waitEnd();

    // (b) Keep-Alive asked for: granted, with the timeout hint.
    const b = await h.connect();
    const kept = await get(b, '/page3', ['Connection: Keep-Alive'], 'HTTP/1.0');
    expect(kept.statusLine).toBe(`${protocol} 200 OK`);
    expect(kept.body.toString('latin1')).toBe(POV);
    expect(kept.header('Connection')).toBe('Keep-Alive');
    expect(kept.header('Keep-Alive')).toBe(`timeout=${TIMEOUT}`);

    // (c) Same connection without the header: no Connection, no Keep-Alive, then close.
    const last = await get(b, '/page3', [], 'HTTP/1.0');
    expect(last.statusLine).toBe(`${protocol} 200 OK`);
    expect(last.body.toString('latin1')).toBe(POV);
    expect(last.header('Connection')).toBeUndefined();
    expect(last.header('Keep-Alive')).toBeUndefined();
    await b.waitEnd();
    expectQuietLog(h);
  });

  test('K7: keep_alive_conn_limit=2: a third connection is not kept; idle connections expire after timeout, refreshed ones survive', async () => {
    const h = await connServer();
    // cheroot's test_keepalive_conn_management sets timeout=2 and idles 1.2 s + 1.2 s.
    h.server.timeout = 2;
    const idle = () => h.server.rocket!.stats().connections.idle;
    const expectIdle = (n: number) => vi.waitFor(() => expect(idle()).toBe(n), { timeout: 1000, interval: 10 });
    const keepAliveRequest = async (c: RawClient, keepalive = true) => {
      const r = await get(c, '/page3', ['Connection: Keep-Alive'], 'HTTP/1.0');
      expect(r.status).toBe(200);
      expect(r.reason).toBe('OK');
      expect(r.body.toString('latin1')).toBe(POV);
      if (keepalive) {
        expect(r.header('Connection')).toBe('Keep-Alive');
        expect(r.header('Keep-Alive')).toBe('timeout=2');
      } else {
        expect(r.header('Connection')).toBeUndefined();
        expect(r.header('Keep-Alive')).toBeUndefined();
      }
    };

    const c1 = await h.connect();
    await keepAliveRequest(c1);
    await expectIdle(1);
    const c2 = await h.connect();
    await keepAliveRequest(c2);
    await expectIdle(2);
    await keepAliveRequest(c1);
    await expectIdle(2);

    const c3 = await h.connect();
    await keepAliveRequest(c3, false);
    await c3.waitEnd();
    await expectIdle(2);

    await sleep(1200);
    await keepAliveRequest(c2);
    await expectIdle(2);
    await sleep(1200);
    await expectIdle(1);

    // c1 expired, silently: the server closed it without sending anything.
    await c1.waitEnd(1000);
    expect(c1.pending.toString('latin1')).toBe('');
    await keepAliveRequest(c2);
    await expectIdle(1);
    expectQuietLog(h);
  });

  test('K8: a silent connection, or a request head that never ends, gets "408 Request Timeout" (Content-Length: 0), then close', async () => {
    const h = await connServer();
    const silent = await h.connect();
    const partial = await h.connect();
    await partial.write('GET /hello HTTP/1.1');
    await partial.write('Host: 127.0.0.1');
    const started = Date.now();
    const [a, b] = await Promise.all([untilClosed(silent, 2 * TIMEOUT * 1000 + 1000), untilClosed(partial, 2 * TIMEOUT * 1000 + 1000)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT * 1000 * 0.9);
    const expected = simple('HTTP/1.1', '408 Request Timeout');
    expect(a).toBe(expected);
    expect(b).toBe(expected);
    expectQuietLog(h);
  });

  test('K9: after requests, an idle connection is closed (or gets 408) after the timeout; new connections still work', async () => {
    const h = await connServer();
    const allowed = (bytes: string) => bytes === '' || bytes.startsWith('HTTP/1.1 408 ');

    const c = await h.connect();
    const first = await get(c, `/timeout?t=${TIMEOUT}`);
    expect(first.status).toBe(200);
    expect(first.body.toString('latin1')).toBe(String(TIMEOUT));
    const second = await get(c, '/hello');
    expect(second.status).toBe(200);
    expect(second.body.toString('latin1')).toBe('Hello, world!');
    const idleFrom = Date.now();
    const rest = await untilClosed(c, 2 * TIMEOUT * 1000 + 1000);
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(TIMEOUT * 1000 * 0.9);
    expect(allowed(rest), JSON.stringify(rest)).toBe(true);

    // A new connection works; a request line that stops half-way gets 408 or a close.
    const d = await h.connect();
    const pov = await get(d, '/pov');
    expect(pov.body.toString('latin1')).toBe(POV);
    await d.write('GET /hello HTTP/1.1');
    const partial = await untilClosed(d, 2 * TIMEOUT * 1000 + 1000);
    expect(allowed(partial), JSON.stringify(partial)).toBe(true);

    const e = await h.connect();
    expect((await get(e, '/pov')).body.toString('latin1')).toBe(POV);
    expectQuietLog(h);
  });

  test('K10: pipelined requests are answered in order, each 200 "Hello, world!"', async () => {
    const h = await connServer();
    const c = await h.connect();
    // cheroot's order: send request N+1 before reading response N.
    await c.write(request('GET', '/hello'));
    for (let trial = 0; trial < 5; trial++) {
      await c.write(request('GET', `/hello?${trial}`));
      const r = await c.readResponse();
      expect(r.status).toBe(200);
      expect(r.body.toString('latin1')).toBe('Hello, world!');
    }
    const last = await c.readResponse();
    expect(last.status).toBe(200);
    expect(last.body.toString('latin1')).toBe('Hello, world!');

    // Six at once, in one write: six responses, in order, without waiting.
    await c.write(Array.from({ length: 6 }, (_, i) => request('GET', `/hello?batch${i}`)).join(''));
    for (let i = 0; i < 6; i++) {
      const r = await c.readResponse({ timeout: 2000 });
      expect(r.status).toBe(200);
      expect(r.body.toString('latin1')).toBe('Hello, world!');
    }
    expectQuietLog(h);
  });

  test('K11: no 100 without Expect; with "Expect: 100-continue" exactly "HTTP/1.1 100 Continue\\r\\n\\r\\n" at once, then the reply', async () => {
    const h = await connServer();
    const a = await h.connect();
    await a.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: 4']) + "d'oh");
    const plain = await a.readResponse();
    expect(plain.status).not.toBe(100);
    expect(plain.status).toBe(200);
    expect(plain.body.toString('latin1')).toBe("thanks for 'd'oh'");

    const b = await h.connect();
    await b.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: 17', 'Expect: 100-continue']));
    const interim = await b.readResponse();
    expect(interim.head).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await b.write('I am a small file');
    const r = await b.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe("thanks for 'I am a small file'");
    expectQuietLog(h);
  });

  test.each([[0], [1001]])('K12: read-all-or-close (max_request_body_size=%i): an unread body is drained and the connection serves the next request', async (size) => {
    const h = await connServer();
    h.server.max_request_body_size = size;
    const c = await h.connect();
    await c.write(request('POST', '/err_before_read', ['Content-Type: text/plain', 'Content-Length: 1000', 'Expect: 100-continue']));
    expect((await c.readResponse()).status).toBe(100);
    await c.write('x'.repeat(1000));
    const failed = await c.readResponse();
    expect(failed.status).toBe(500);

    await c.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: 17', 'Expect: 100-continue']));
    expect((await c.readResponse()).status).toBe(100);
    await c.write('I am a small file');
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe("thanks for 'I am a small file'");
    expectQuietLog(h);
  });

  test('K13: 204 and 304 (status strings without a reason) have no Content-Length, Transfer-Encoding, Connection or body; the connection stays open (differs from cheroot: the reason phrase is filled in)', async () => {
    const h = await connServer();
    const c = await h.connect();
    expect((await get(c, '/pov')).header('Connection')).toBeUndefined();
    for (const code of ['204', '304']) {
      const r = await get(c, `/custom/${code}`);
      expect(r.statusLine).toBe(`HTTP/1.1 ${code} ${code === '204' ? 'No Content' : 'Not Modified'}`);
      expect(r.header('Content-Length')).toBeUndefined();
      expect(r.header('Transfer-Encoding')).toBeUndefined();
      expect(r.header('Connection')).toBeUndefined();
      expect(r.body.length).toBe(0);
    }
    // Nothing of "Code = 204" / "Code = 304" was sent: the next response parses cleanly.
    const after = await get(c, '/pov');
    expect(after.body.toString('latin1')).toBe(POV);
    expect(c.pending.length).toBe(0);
    expectQuietLog(h);
  });

  test('K14: a chunked upload with a chunk extension and a trailer gives 200; extensions are ignored', async () => {
    const h = await connServer();
    const c = await h.connect();
    const body = '8;key=value\r\nxx\r\nxxxx\r\n5\r\nyyyyy\r\n0\r\nContent-Type: application/json\r\n\r\n';
    await c.write(request('POST', '/upload', ['Transfer-Encoding: chunked', 'Trailer: Content-Type']) + body);
    const r = await c.readResponse();
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.body.toString('latin1')).toBe("thanks for 'xx\r\nxxxxyyyyy'");
    expectQuietLog(h);
  });

  test('K14 (differs from cheroot: Content-Length together with chunked is refused with 400, against request smuggling)', async () => {
    const h = await connServer();
    const c = await h.connect();
    const body = '8;key=value\r\nxx\r\nxxxx\r\n5\r\nyyyyy\r\n0\r\nContent-Type: application/json\r\n\r\n';
    await c.write(request('POST', '/upload', ['Transfer-Encoding: chunked', 'Trailer: Content-Type', 'Content-Length: 3']) + body);
    const r = await c.readResponse();
    expect(r.status).toBe(400);
    await c.waitEnd();
  });

  test('K14: a chunked body larger than max_request_body_size (1001) gives 413', async () => {
    const h = await connServer();
    const c = await h.connect();
    // 0x3f0 = 1008 bytes of data. (cheroot's own case, 0x3e3 = 995 bytes, is over the limit only
    // when the chunk delimiters are counted too.)
    const body = `3f0\r\n${'x'.repeat(0x3f0)}\r\n0\r\n\r\n`;
    await c.write(request('POST', '/upload', ['Transfer-Encoding: chunked', 'Content-Type: text/plain']) + body);
    const r = await c.readResponse();
    expect(r.status).toBe(413);
    await c.waitEnd();
  });

  test.each([[[] as string[]], [['Expect: 100-continue']]])('K15: Content-Length 9999 over the limit gives 413 before the body (no 100 Continue), with "Connection: close" (extra %j)', async (extra) => {
    const h = await connServer();
    const c = await h.connect();
    await c.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: 9999', ...extra]));
    expect(await untilClosed(c)).toBe(
      simple('HTTP/1.1', '413 Request Entity Too Large', 'The entity sent with the request exceeds the maximum allowed bytes.', true),
    );
  });

  test('K16: "Content-Length: not-an-integer" gives 400 "Malformed Content-Length Header."', async () => {
    const h = await connServer();
    const c = await h.connect();
    await c.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: not-an-integer']));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'Malformed Content-Length Header.'));
  });

  test('K17: a buffered body longer than its Content-Length gives 500 "The requested resource returned more bytes than the declared Content-Length." (differs from cheroot: inside Rocket\'s own error text)', async () => {
    const h = await connServer();
    const c = await h.connect();
    const r = await get(c, '/wrong_cl_buffered');
    const message = 'The requested resource returned more bytes than the declared Content-Length.';
    expect(r.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(r.header('Content-Type')).toBe('text/plain; charset=utf-8');
    expect(r.body.toString('latin1')).toBe(`500 Internal Server Error: ${message}\n`);
  });

  test('K18: an unbuffered body longer than its Content-Length: 200, the client reads "I too", nothing past it, and the server closes', async () => {
    const h = await connServer();
    const c = await h.connect();
    const r = await get(c, '/wrong_cl_unbuffered');
    expect(r.status).toBe(200);
    expect(r.header('Content-Length')).toBe('5');
    expect(r.body.toString('latin1')).toBe('I too');
    expect(await untilClosed(c)).toBe('');
  });

  test('K19: a 1 MiB response read slowly (a pause of 0.6 × timeout) arrives whole', async () => {
    const h = await connServer();
    const c = await h.connect();
    await c.write(request('GET', '/one_megabyte_of_a'));
    await c.waitBytes(512);
    c.socket.pause();
    await sleep(TIMEOUT * 1000 * 0.6);
    c.socket.resume();
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(1024 * 1024);
    expect(r.body.equals(Buffer.alloc(1024 * 1024, 'a'))).toBe(true);
    expectQuietLog(h);
  });

  test.each([['\n\n'], ['\r\n\n']])('K20: a request ending in %j gives 400 "HTTP requires CRLF terminators"', async (terminator) => {
    const h = await connServer();
    const c = await h.connect();
    await c.write(`GET /hello HTTP/1.1${terminator}`);
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'HTTP requires CRLF terminators'));
  });

  test('K21: an app that throws KeyboardInterrupt shuts the server down; serve() rejects with it', async () => {
    const h = await connServer({
      '/kbint': () => {
        throw new KeyboardInterrupt();
      },
    });
    const c = await h.connect();
    await c.write(request('GET', '/kbint'));
    await expect(within(h.served, 2000, 'serve() settling')).rejects.toBeInstanceOf(KeyboardInterrupt);
    expect(h.server.ready).toBe(false);
    expect(h.logs.map((call) => call.msg)).toContain('Keyboard Interrupt: shutting down');
  });

  test('K22: an app throwing a non-Error value is logged at ERROR and every worker survives; server.interrupt = SystemExit stops it all', async () => {
    class SillyMistake {
      toString(): string {
        return 'SillyMistake()';
      }
    }
    const h = await connServer({
      '/silly': () => {
        throw new SillyMistake();
      },
    });
    const c = await h.connect();
    const r = await get(c, '/silly');
    expect(r.status).toBe(500);
    await vi.waitFor(() => expect(errorsLogged(h.logs).length).toBeGreaterThan(0), { timeout: 1000 });
    expect(errorsLogged(h.logs).every((call) => call.level === 40)).toBe(true);

    const d = await h.connect();
    expect((await get(d, '/hello')).body.toString('latin1')).toBe('Hello, world!');
    await vi.waitFor(() => expect(h.server.requests.idle).toBe(10), { timeout: 1000 });
    expect(h.server.ready).toBe(true);

    const exit = new SystemExit();
    h.server.interrupt = exit;
    await expect(within(h.served, 2000, 'serve() settling')).rejects.toBe(exit);
    expect(h.server.ready).toBe(false);
    expect(h.server.requests.idle).toBe(0);
  });

  test('K23: a client that closes in the middle of a request head causes no error log, and the server goes on', async () => {
    const h = await connServer();
    const open = () => h.server.stats['Open Connections'];
    const a = await h.connect();
    await a.write('GET /hello HTTP/1.1');
    await a.write('Host: 127.0.0.1');
    a.end();
    const b = await h.connect();
    await b.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    b.socket.resetAndDestroy();
    await vi.waitFor(() => expect(open()).toBe(0), { timeout: 3000, interval: 10 });
    const c = await h.connect();
    expect((await get(c, '/hello')).body.toString('latin1')).toBe('Hello, world!');
    expectQuietLog(h);
  });

  test('K24: a socket error on one connection (reset while its response is written) does not stop the accept loop', async () => {
    const h = await connServer();
    const open = () => h.server.stats['Open Connections'];
    const a = await h.connect();
    await a.write(request('GET', '/one_megabyte_of_a'));
    await a.waitBytes(1);
    a.socket.resetAndDestroy();
    await vi.waitFor(() => expect(open()).toBe(0), { timeout: 3000, interval: 10 });
    const b = await h.connect();
    expect((await get(b, '/hello')).body.toString('latin1')).toBe('Hello, world!');
    expectQuietLog(h);
  });
});

// ---------------------------------------------------------------------------------------------
// §6.3 test_server.py, test_wsgi.py, test_dispatch.py
// ---------------------------------------------------------------------------------------------

class IOError_ extends Error {
  override name = 'IOError';
}
class OSError_ extends Error {
  override name = 'OSError';
}
class RuntimeError_ extends Error {
  override name = 'RuntimeError';
}

describe('§6.3 test_server, test_wsgi, test_dispatch', () => {
  test('S1: prepare() makes ready true with every worker ready; stop() leaves ready false and no workers', async () => {
    const h = await startServer(controller(coreHandlers));
    expect(h.server.ready).toBe(true);
    expect(h.server.requests.idle).toBe(h.server.requests.min);
    expect(h.server.requests.idle).toBe(10);
    await h.server.stop();
    expect(h.server.ready).toBe(false);
    expect(h.server.requests.idle).toBe(0);
    await expect(h.served).resolves.toBeUndefined();
  });

  test('S2: serve() keeps running until stop(), and returns within 0.5 s of it', async () => {
    const h = await startServer(controller(coreHandlers));
    let settled = false;
    void h.served.then(
      () => (settled = true),
      () => (settled = true),
    );
    await sleep(500);
    expect(settled).toBe(false);
    const stopped = h.server.stop();
    await within(h.served, 500, 'serve() returning');
    await stopped;
  });

  test.each([
    ['IOError', () => new IOError_('IOError')],
    ['KeyboardInterrupt', () => new KeyboardInterrupt()],
    ['OSError', () => new OSError_('OSError')],
    ['RuntimeError', () => new RuntimeError_('RuntimeError')],
  ])('S3: server.interrupt = %s makes serve() reject with that same error within 0.5 s', async (_name, make) => {
    const h = await startServer(controller(coreHandlers));
    const error = make();
    h.server.interrupt = error;
    await expect(within(h.served, 500, 'serve() settling')).rejects.toBe(error);
    expect(h.server.ready).toBe(false);
  });

  test('S4: Ctrl-C (SIGINT) while serving: serve() rejects with KeyboardInterrupt, and stop() still returns', async () => {
    const before = process.listeners('SIGINT');
    const h = await startServer(controller(coreHandlers), undefined, {
      before: (server) => {
        server.handle_signals = true;
      },
    });
    const added = process.listeners('SIGINT').filter((listener) => !before.includes(listener));
    expect(added).toHaveLength(1);
    (added[0] as () => void)();
    await expect(within(h.served, 1000, 'serve() settling')).rejects.toBeInstanceOf(KeyboardInterrupt);
    await within(h.server.stop(), 1000, 'stop() returning');
    expect(process.listeners('SIGINT')).toEqual(before);
  });

  test.each([['127.0.0.1'], ['::1']])("S5 (adapted: loopback %s instead of '0.0.0.0'/'::'): bind_addr keeps its host and gets the real port", async (host) => {
    const h = await startServer(controller(coreHandlers), undefined, { host });
    const [boundHost, port] = h.server.bind_addr as readonly [string, number];
    expect(boundHost).toBe(host);
    expect(port).not.toBe(0);
    const c = await h.connect();
    expect((await get(c, '/hello')).body.toString('latin1')).toBe('Hello world!');
  });

  function getOverSocket(socketPath: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ socketPath, path: '/hello', headers: { Host: 'localhost' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  test('S6: bind_addr = a UNIX socket path that already exists as a file: it binds, and bind_addr stays the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cherrypy-s6-'));
    try {
      const path = join(dir, 'cheroot.sock');
      writeFileSync(path, '');
      const server = new CherryPyWSGIServer(path, controller(coreHandlers), { shutdown_timeout: 0 });
      server.handle_signals = false;
      try {
        await server.prepare();
        expect(server.bind_addr).toBe(path);
        expect(await getOverSocket(path)).toEqual({ status: 200, body: 'Hello world!' });
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.runIf(process.platform === 'linux')('S7: bind_addr = an abstract socket name "\\0cheroot-test-socket<uuid>" is kept unchanged', async () => {
    const name = `\0cheroot-test-socket${randomUUID()}`;
    const server = new CherryPyWSGIServer(name, controller(coreHandlers), { shutdown_timeout: 0 });
    server.handle_signals = false;
    try {
      await server.prepare();
      expect(server.bind_addr).toBe(name);
      expect(await getOverSocket(name)).toEqual({ status: 200, body: 'Hello world!' });
    } finally {
      await server.stop();
    }
  });

  test('S8 (differs from cheroot: SO_PEERCRED cannot be read in Node; peercreds_enabled is refused at construction)', () => {
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 0], null, { peercreds_enabled: true })).toThrow(/SO_PEERCRED/);
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 0], null, { peercreds_enabled: true, peercreds_resolve_enabled: true })).toThrow(TypeError);
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 0], null, { peercreds_enabled: false })).not.toThrow();
  });

  test('S10 (differs from cheroot: SO_REUSEPORT is not supported; reuse_port=true is refused at construction)', () => {
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 0], null, { reuse_port: true })).toThrow(/SO_REUSEPORT/);
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 0], null, { reuse_port: false })).not.toThrow();
  });

  test('S11 (differs from cheroot: the constructor stays 3.x-lenient — numthreads 0 means 1, max <= 0 means unlimited, no ValueError/TypeError)', async () => {
    const lenient = new CherryPyWSGIServer(['127.0.0.1', 0], null, 0, null, 0);
    expect(lenient.requests.min).toBe(1);
    expect(lenient.requests.max).toBe(-1);
    expect(new CherryPyWSGIServer(['127.0.0.1', 0], null, { max: -1 }).requests.max).toBe(-1);
    expect(() => new CherryPyWSGIServer(['127.0.0.1', 0], null, { numthreads: 2, max: 1 })).not.toThrow();
    const h = await startServer(controller(coreHandlers), undefined, { args: { numthreads: 0, max: 0 } });
    const c = await h.connect();
    expect((await get(c, '/hello')).status).toBe(200);
  });

  test('S12: overload (one worker busy, accept queue of 1 full): a new request gets 503 Service Unavailable, then close (differs from cheroot: Rocket\'s short text body and Retry-After)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await startServer(
      controller({
        ...coreHandlers,
        '/block': async () => {
          await gate;
          return 'Hello world!';
        },
      }),
      undefined,
      { args: { numthreads: 1, max: 1, accepted_queue_size: 1, accepted_queue_timeout: 0 } },
    );
    try {
      const busy = await h.connect();
      await busy.write(request('GET', '/block'));
      await vi.waitFor(() => expect(h.server.rocket!.stats().pool.busy).toBe(1), { timeout: 1000, interval: 10 });
      const queued = await h.connect();
      await queued.write(request('GET', '/hello'));
      await vi.waitFor(() => expect(h.server.requests.qsize).toBe(1), { timeout: 1000, interval: 10 });

      const refused = await h.connect();
      await refused.write(request('GET', '/hello')).catch(() => {});
      const raw = await untilClosed(refused);
      const parsed = parseResponse(Buffer.from(raw, 'latin1'), false, true);
      expect(parsed !== null && 'response' in parsed, JSON.stringify(raw)).toBe(true);
      const r = (parsed as { response: RawResponse }).response;
      expect(r.status).toBe(503);
      expect(r.reason).toBe('Service Unavailable');
      expect(r.header('Retry-After')).toBe('5');
      expect(r.body.toString('latin1')).toMatch(/^503 Service Unavailable: /);

      release();
      expect((await busy.readResponse()).status).toBe(200);
      expect((await queued.readResponse()).status).toBe(200);
    } finally {
      release();
    }
  });

  test('S13 (adapted: no leaked handles or timers instead of threads): five prepare/serve/stop cycles', async () => {
    const count = () => {
      const counts: Record<string, number> = {};
      for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
      return { servers: counts.TCPServerWrap ?? 0, sockets: counts.TCPSocketWrap ?? 0, timers: counts.Timeout ?? 0 };
    };
    const before = count();
    for (let i = 0; i < 5; i++) {
      const server = new CherryPyWSGIServer(['127.0.0.1', 0], null, { shutdown_timeout: 0 });
      server.handle_signals = false;
      await server.prepare();
      const served = server.serve();
      server.wsgi_app = controller(coreHandlers);
      const c = await RawClient.connect((server.bind_addr as readonly [string, number])[1]);
      expect((await get(c, '/hello')).status).toBe(200);
      await server.stop();
      await served;
      await c.waitEnd();
      c.destroy();
    }
    await vi.waitFor(
      () => {
        const after = count();
        expect(after.servers).toBeLessThanOrEqual(before.servers);
        expect(after.sockets).toBeLessThanOrEqual(before.sockets);
        expect(after.timers).toBeLessThanOrEqual(before.timers);
      },
      { timeout: 2000, interval: 20 },
    );
  });

  test('W1 (adapted: 127.0.0.1 instead of a dual-stack "::" bind, listen backlog 128): 1000 GETs over 50 pooled keep-alive connections, zero errors', async () => {
    const app: GatewayApp = (_environ, start) => {
      start('200 OK', [['Content-type', 'text/plain']]);
      return ['Hello world!'];
    };
    // The client shares the server's event loop here and opens its 50 connections in one burst:
    // with cheroot's request_queue_size=5 the listen backlog overflows and the kernel's SYN-ACK
    // retries stall those connections for seconds. A separate client process would not burst so.
    const h = await startServer(app, undefined, { args: { timeout: 20, request_queue_size: 128 } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    try {
      const one = () =>
        new Promise<boolean>((resolve) => {
          const req = http.get({ host: '127.0.0.1', port: h.port, path: '/info', agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve(res.statusCode === 200 && Buffer.concat(chunks).toString() === 'Hello world!'));
            res.on('error', () => resolve(false));
          });
          req.on('error', () => resolve(false));
        });
      const results = await Promise.all(Array.from({ length: 1000 }, one));
      expect(results.filter((ok) => !ok).length).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  test('W2: start_response called a second time without exc_info throws', async () => {
    const app: GatewayApp = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      let outcome = 'no error';
      try {
        start('200 OK', [['Content-Type', 'text/plain']]);
      } catch (error) {
        outcome = error instanceof Error ? `threw: ${error.message}` : 'threw a non-Error';
      }
      return [outcome];
    };
    const h = await startServer(app);
    const c = await h.connect();
    const r = await get(c, '/');
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toMatch(/^threw: .*start_response.*second time/);
  });

  test('W3 (adapted: a write callable exists only after start_response; a body before start_response is the same error): 500, logged (differs from cheroot: Rocket\'s short text body)', async () => {
    const app: GatewayApp = () => ['a body without start_response'];
    const h = await startServer(app);
    const c = await h.connect();
    const r = await get(c, '/');
    expect(r.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(r.body.toString('latin1')).toBe('500 Internal Server Error\n');
    await c.waitEnd();
    expect(errorsLogged(h.logs).length).toBeGreaterThan(0);
  });

  test("D1: PathInfoDispatcher([['/', app]]) passes /foo to the app: 200 OK, the app's headers unchanged, \"Hello, world!\"", async () => {
    const seen: { script?: unknown; path?: unknown }[] = [];
    const app: GatewayApp = (environ, start) => {
      seen.push({ script: environ.SCRIPT_NAME, path: environ.PATH_INFO });
      start('200 OK', [
        ['Content-Type', 'text/plain'],
        ['X-Test', 'kept'],
      ]);
      return ['Hello, world!'];
    };
    const dispatcher = WSGIPathInfoDispatcher([['/', app]]);

    // As cheroot's test calls it: an environ with PATH_INFO only.
    const calls: [string, readonly (readonly [string, string | number])[]][] = [];
    const body = await dispatcher({ PATH_INFO: '/foo' } as unknown as Environ, (status, headers) => {
      calls.push([status, headers]);
      return () => true;
    });
    expect(calls).toEqual([['200 OK', [['Content-Type', 'text/plain'], ['X-Test', 'kept']]]]);
    expect(Array.from(body as Iterable<string>).join('')).toBe('Hello, world!');

    // And on the wire.
    const h = await startServer(dispatcher);
    const c = await h.connect();
    const r = await get(c, '/foo');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.header('Content-Type')).toBe('text/plain');
    expect(r.header('X-Test')).toBe('kept');
    expect(r.body.toString('latin1')).toBe('Hello, world!');
    expect(seen.at(-1)).toEqual({ script: '', path: '/foo' });
  });
});

// ---------------------------------------------------------------------------------------------
// §6.4 test_ssl.py
// ---------------------------------------------------------------------------------------------

describe('§6.4 test_ssl', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });
  afterAll(() => certs?.remove());

  const envApp: GatewayApp = (environ, start) => {
    const keys = Object.keys(environ).filter((key) => key.startsWith('SSL_') || key === 'HTTPS' || key === 'wsgi.url_scheme');
    const picked: Record<string, unknown> = {};
    for (const key of keys) picked[key] = environ[key];
    start('200 OK', [['Content-Type', 'application/json']]);
    return [JSON.stringify(picked)];
  };

  const helloApp = controller({ '/': hello, '/env': () => undefined });

  function tlsServer(adapter: SSLAdapter, app: GatewayApp = helloApp, host = '127.0.0.1'): Promise<Harness> {
    return startServer(app, undefined, {
      host,
      before: (server) => {
        server.ssl_adapter = adapter;
      },
    });
  }

  /** An HTTPS GET; the response, or the error that stopped it. */
  async function httpsGet(
    port: number,
    path: string,
    client: { cert?: string; key?: string } = {},
  ): Promise<{ ok: true; status: number; body: string } | { ok: false; error: string }> {
    let c: RawClient;
    try {
      c = track(
        await RawClient.connectTls(port, {
          ca: certs.read(certs.caCert),
          ...(client.cert !== undefined ? { cert: certs.read(client.cert), key: certs.read(client.key!) } : {}),
        }),
      );
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
    try {
      await c.write(request('GET', path));
      const r = await c.readResponse({ timeout: 3000 });
      return { ok: true, status: r.status, body: r.body.toString('utf8') };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  test.each([
    ['builtin', BuiltinSSLAdapter],
    ['pyopenssl', pyOpenSSLAdapter],
  ])('T1: the %s adapter as server.ssl_adapter serves HTTPS verified against the CA: 200 "Hello world!"', async (_name, Adapter) => {
    const h = await tlsServer(new Adapter(certs.serverCert, certs.serverKey));
    expect(await httpsGet(h.port, '/')).toEqual({ ok: true, status: 200, body: 'Hello world!' });
  });

  test.each([
    ['CERT_NONE', 'trusted', true],
    ['CERT_NONE', 'untrusted', true],
    ['CERT_OPTIONAL', 'trusted', true],
    ['CERT_OPTIONAL', 'untrusted', false],
  ] as const)('T2: verify_mode %s with a %s client certificate: served=%s (an untrusted one fails the handshake)', async (mode, which, served) => {
    const adapter = new BuiltinSSLAdapter(certs.serverCert, certs.serverKey, certs.caCert);
    adapter.context.verify_mode = mode;
    const h = await tlsServer(adapter);
    const client = which === 'trusted' ? { cert: certs.clientCert, key: certs.clientKey } : { cert: certs.rogueCert, key: certs.rogueKey };
    const outcome = await httpsGet(h.port, '/', client);
    if (served) expect(outcome).toEqual({ ok: true, status: 200, body: 'Hello world!' });
    else expect(outcome.ok, JSON.stringify(outcome)).toBe(false);
  });

  test('T2 (differs from cheroot: CERT_REQUIRED acts as CERT_OPTIONAL — a trusted certificate is served, an untrusted one refused, but no certificate is still served)', async () => {
    const adapter = new BuiltinSSLAdapter(certs.serverCert, certs.serverKey, certs.caCert);
    adapter.context.verify_mode = 'CERT_REQUIRED';
    const h = await tlsServer(adapter);
    expect(await httpsGet(h.port, '/', { cert: certs.clientCert, key: certs.clientKey })).toEqual({ ok: true, status: 200, body: 'Hello world!' });
    expect((await httpsGet(h.port, '/', { cert: certs.rogueCert, key: certs.rogueKey })).ok).toBe(false);
    expect(await httpsGet(h.port, '/')).toEqual({ ok: true, status: 200, body: 'Hello world!' });
  });

  test.each([
    ['CERT_OPTIONAL', 'no', 'NONE'],
    ['CERT_NONE', 'a trusted', 'NONE'],
    ['CERT_OPTIONAL', 'a trusted', 'SUCCESS'],
  ] as const)('T3: the TLS environ with verify_mode %s and %s client certificate: SSL_CLIENT_VERIFY %s', async (mode, which, verify) => {
    const adapter = new BuiltinSSLAdapter(certs.serverCert, certs.serverKey, certs.caCert);
    adapter.context.verify_mode = mode;
    const h = await tlsServer(adapter, envApp);
    const outcome = await httpsGet(h.port, '/env', which === 'no' ? {} : { cert: certs.clientCert, key: certs.clientKey });
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    const env = JSON.parse((outcome as { body: string }).body) as Record<string, string>;
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTPS).toBe('on');
    for (const key of ['SSL_VERSION_INTERFACE', 'SSL_VERSION_LIBRARY', 'SSL_PROTOCOL', 'SSL_CIPHER']) {
      expect(typeof env[key] === 'string' && env[key] !== '', key).toBe(true);
    }
    expect(env.SSL_CLIENT_VERIFY).toBe(verify);
    if (verify === 'SUCCESS') {
      expect(env.SSL_CLIENT_CERT).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      expect(env.SSL_CLIENT_M_VERSION).toBeTruthy();
      expect(env.SSL_CLIENT_M_SERIAL).toBeTruthy();
      expect(env.SSL_CLIENT_S_DN).toContain('CN=client');
      expect(env.SSL_CLIENT_I_DN).toContain('CN=test-ca');
    } else {
      expect(env.SSL_CLIENT_CERT).toBeUndefined();
    }
  });

  test('T4: an HTTPS client on the plain-HTTP port gets a TLS error; the server goes on', async () => {
    const h = await startServer(helloApp);
    const outcome = await httpsGet(h.port, '/');
    expect(outcome.ok).toBe(false);
    const c = await h.connect();
    expect((await get(c, '/')).status).toBe(200);
  });

  test('T5: plain HTTP on the HTTPS port (differs from cheroot: the handshake fails and the connection closes, without a 400)', async () => {
    const h = await tlsServer(new BuiltinSSLAdapter(certs.serverCert, certs.serverKey));
    const c = await h.connect();
    await c.write(request('GET', '/'));
    expect(await untilClosed(c)).toBe('');
  });

  test('T6: plain HTTP on the HTTPS port is answered with a 400 or a close (either is acceptable); HTTPS still works', async () => {
    const h = await tlsServer(new BuiltinSSLAdapter(certs.serverCert, certs.serverKey));
    const c = await h.connect();
    await c.write(request('GET', '/'));
    const raw = await untilClosed(c);
    expect(raw === '' || raw.startsWith('HTTP/1.1 400 '), JSON.stringify(raw)).toBe(true);
    expect(await httpsGet(h.port, '/')).toEqual({ ok: true, status: 200, body: 'Hello world!' });
  });

  test('T7 (differs from cheroot: adapters take no private-key password; an encrypted key fails when the server starts, not at construction)', async () => {
    const encrypted = join(certs.dir, 'server-encrypted.key');
    execFileSync('openssl', ['pkey', '-in', certs.serverKey, '-aes256', '-passout', 'pass:secret', '-out', encrypted], { stdio: 'pipe' });
    const adapter = new BuiltinSSLAdapter(certs.serverCert, encrypted);
    const server = new CherryPyWSGIServer(['127.0.0.1', 0], helloApp, { shutdown_timeout: 0 });
    server.handle_signals = false;
    server.ssl_adapter = adapter;
    try {
      await expect(server.prepare()).rejects.toThrow(/No socket could be created/);
      expect(server.ready).toBe(false);
    } finally {
      await server.stop();
    }
  });

  test('T8: a connection to the HTTPS port that resets, or closes without a byte, is no error; the server goes on', async () => {
    const h = await tlsServer(new BuiltinSSLAdapter(certs.serverCert, certs.serverKey));
    const reset = await h.connect();
    reset.socket.resetAndDestroy();
    const empty = await h.connect();
    empty.end();
    const partial = await h.connect();
    await partial.write(Buffer.from([0x16, 0x03, 0x01]));
    partial.socket.resetAndDestroy();
    expect(await httpsGet(h.port, '/')).toEqual({ ok: true, status: 200, body: 'Hello world!' });
    expect(errorsLogged(h.logs)).toEqual([]);
  });

  test('T9: a plain-HTTP client on the HTTPS port that goes away at once is no error; the server goes on', async () => {
    const h = await tlsServer(new BuiltinSSLAdapter(certs.serverCert, certs.serverKey));
    for (let i = 0; i < 3; i++) {
      const c = await h.connect();
      await c.write(request('GET', '/'));
      c.socket.resetAndDestroy();
    }
    expect(await httpsGet(h.port, '/')).toEqual({ ok: true, status: 200, body: 'Hello world!' });
    expect(errorsLogged(h.logs)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// §6.5 request/response rules of server.py
// ---------------------------------------------------------------------------------------------

describe('§6.5 rules from server.py', () => {
  const sizeHandlers: Record<string, Handler> = {
    '/upload': async (environ) => `Size: ${(await environ['wsgi.input'].read()).length}`,
  };

  test('§6.5 header size: beyond max_request_header_size (500) 413 "The headers sent with the request exceed the maximum allowed bytes." with Connection: close; a 248-byte header is fine', async () => {
    const h = await coreServer();
    h.server.max_request_header_size = 500;
    const ok = await h.connect();
    const fine = await get(ok, '/hello', [`From: ${'x'.repeat(248)}`]);
    expect(fine.status).toBe(200);
    expect(fine.body.toString('latin1')).toBe('Hello world!');

    const c = await h.connect();
    await c.write(request('GET', '/hello', [`From: ${'x'.repeat(500)}`]));
    expect(await untilClosed(c)).toBe(
      simple('HTTP/1.1', '413 Request Entity Too Large', 'The headers sent with the request exceed the maximum allowed bytes.', true),
    );
  });

  test('§6.5 body size: with max_request_body_size 200, a 200-byte body is read and 201 bytes give 413', async () => {
    const h = await coreServer(sizeHandlers);
    h.server.max_request_body_size = 200;
    const ok = await h.connect();
    await ok.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: 200']) + 'x'.repeat(200));
    const r = await ok.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Size: 200');

    const c = await h.connect();
    await c.write(request('POST', '/upload', ['Content-Type: text/plain', 'Content-Length: 201']) + 'x'.repeat(201));
    expect(await untilClosed(c)).toBe(
      simple('HTTP/1.1', '413 Request Entity Too Large', 'The entity sent with the request exceeds the maximum allowed bytes.', true),
    );
  });

  test('§6.5 request line: longer than max_request_header_size gives 414 "The Request-URI sent with the request exceeds the maximum allowed bytes.", no Connection header, then close', async () => {
    const h = await coreServer();
    h.server.max_request_header_size = 500;
    const c = await h.connect();
    await c.write(request('GET', `/hello?${'q'.repeat(600)}`));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '414 Request-URI Too Long', 'The Request-URI sent with the request exceeds the maximum allowed bytes.'));
  });

  test('§6.5 leading empty line: one CRLF before the request line is ignored', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(`\r\n${request('GET', '/hello')}`);
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Hello world!');
  });

  test('§6.5 leading empty lines (differs from cheroot: several are ignored, not 400 "Malformed Request-Line")', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write(`\r\n\r\n\r\n${request('GET', '/hello')}`);
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Hello world!');
  });

  test.each([['gzip, chunked'], ['identity, chunked']])('§6.5 "Transfer-Encoding: %s" (other than chunked): 501 Unimplemented with an empty body, then close', async (coding) => {
    const h = await coreServer(sizeHandlers);
    const c = await h.connect();
    await c.write(request('POST', '/upload', [`Transfer-Encoding: ${coding}`]));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '501 Unimplemented'));
  });

  test.each([['gzip'], ['identity']])('§6.5 "Transfer-Encoding: %s" alone (differs from cheroot: 400, as RFC 9112 §6.3 wants for a request whose last coding is not chunked)', async (coding) => {
    const h = await coreServer(sizeHandlers);
    const c = await h.connect();
    await c.write(request('POST', '/upload', [`Transfer-Encoding: ${coding}`]));
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'chunked is not the final transfer coding'));
  });

  test('§6.5 "Transfer-Encoding: Chunked" is matched case-insensitively', async () => {
    const h = await coreServer(sizeHandlers);
    const d = await h.connect();
    await d.write(request('POST', '/upload', ['Transfer-Encoding: Chunked']) + '3\r\nabc\r\n0\r\n\r\n');
    const r = await d.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString('latin1')).toBe('Size: 3');
  });

  test('§6.5 duplicate headers are folded with ", " (differs from cheroot: for every header, where cheroot keeps the last value of most)', async () => {
    let environ: Environ | null = null;
    const h = await coreServer({
      '/env': (env) => {
        environ = env;
        return 'ok';
      },
    });
    const c = await h.connect();
    await get(c, '/env', ['Accept: text/html', 'Accept: text/plain', 'Cache-Control: no-cache', 'Cache-Control: no-store', 'X-Custom: first', 'X-Custom: last']);
    expect(environ!.HTTP_ACCEPT).toBe('text/html, text/plain');
    expect(environ!.HTTP_CACHE_CONTROL).toBe('no-cache, no-store');
    expect(environ!.HTTP_X_CUSTOM).toBe('first, last');
  });

  test('§6.5 obs-fold continuation lines (differs from cheroot: refused with 400 "Illegal header line." instead of replacing the value)', async () => {
    const h = await coreServer();
    const c = await h.connect();
    await c.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: first\r\n second\r\n\r\n');
    expect(await untilClosed(c)).toBe(simple('HTTP/1.1', '400 Bad Request', 'Illegal header line.'));
  });

  test('§6.5 Connection request tokens are compared case-insensitively (recommendation): "CLOSE" on 1.1 closes, "keep-alive" on 1.0 keeps', async () => {
    const h = await connServer();
    const a = await h.connect();
    const closed = await get(a, '/pov', ['Connection: CLOSE']);
    expect(closed.status).toBe(200);
    expect(await untilClosed(a)).toBe('');

    const b = await h.connect();
    const kept = await get(b, '/pov', ['Connection: keep-alive'], 'HTTP/1.0');
    expect(kept.header('Connection')).toBe('Keep-Alive');
    expect((await get(b, '/pov', ['Connection: keep-alive'], 'HTTP/1.0')).body.toString('latin1')).toBe(POV);
  });

  test('§6.5 an app-sent "Connection: close" is honoured (recommendation): one Connection header, and the server closes', async () => {
    const h = await coreServer({
      '/close': (_environ, resp) => {
        resp.headers.push(['Connection', 'close']);
        return 'bye';
      },
    });
    const c = await h.connect();
    const r = await get(c, '/close');
    expect(r.status).toBe(200);
    expect(r.headerAll('Connection')).toEqual(['close']);
    expect(r.body.toString('latin1')).toBe('bye');
    expect(await untilClosed(c)).toBe('');
  });

  test('§6.5 chunked responses: lowercase hex sizes, empty app chunks skipped, "0\\r\\n\\r\\n" with no trailers', async () => {
    const h = await coreServer({
      '/chunks': () =>
        (function* chunks() {
          yield '';
          yield 'a'.repeat(255);
          yield '';
          yield 'b';
          yield '';
        })(),
    });
    const c = await h.connect();
    await c.write(request('GET', '/chunks'));
    for (;;) {
      const text = c.pending.toString('latin1');
      if (text.includes('\r\n0\r\n\r\n')) break;
      await c.waitBytes(c.pending.length + 1);
    }
    const raw = c.pending.toString('latin1');
    const split = raw.indexOf('\r\n\r\n');
    expect(raw.slice(0, split)).toMatch(/\r\nTransfer-Encoding: chunked(\r\n|$)/);
    expect(raw.slice(split + 4)).toBe(`ff\r\n${'a'.repeat(255)}\r\n1\r\nb\r\n0\r\n\r\n`);
  });

  test.each([['204 No Content'], ['205 Reset Content'], ['304 Not Modified']])('§6.5 a %s response is neither chunked nor closed', async (status) => {
    const h = await coreServer({
      '/nobody': (_environ, resp) => {
        resp.status = status;
        return (function* nothing() {})();
      },
    });
    const c = await h.connect();
    const r = await get(c, '/nobody');
    expect(r.statusLine).toBe(`HTTP/1.1 ${status}`);
    expect(r.header('Transfer-Encoding')).toBeUndefined();
    expect(r.header('Connection')).toBeUndefined();
    expect((await get(c, '/hello')).body.toString('latin1')).toBe('Hello world!');
  });

  test('§6.5 a 413 set by the app forces "Connection: close"', async () => {
    const h = await coreServer({
      '/too_big': (_environ, resp) => {
        resp.status = '413 Request Entity Too Large';
        return 'too big';
      },
    });
    const c = await h.connect();
    const r = await get(c, '/too_big');
    expect(r.status).toBe(413);
    expect(r.header('Connection')).toBe('close');
    expect(r.body.toString('latin1')).toBe('too big');
    expect(await untilClosed(c)).toBe('');
  });

  test('§6.5 an app error before the headers: 500 Internal Server Error, logged, connection closed (differs from cheroot: Rocket\'s short text body)', async () => {
    const h = await coreServer({
      '/boom': () => {
        throw new Error('boom');
      },
    });
    const c = await h.connect();
    const r = await get(c, '/boom');
    expect(r.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(r.body.toString('latin1')).toBe('500 Internal Server Error\n');
    expect(await untilClosed(c)).toBe('');
    expect(errorsLogged(h.logs).length).toBeGreaterThan(0);
  });

  test('§6.5 SERVER_NAME comes from server.server_name, not from the Host header', async () => {
    let serverName: unknown;
    const h = await coreServer({
      '/name': (environ) => {
        serverName = environ.SERVER_NAME;
        return 'ok';
      },
    });
    h.server.server_name = 'www.example.com';
    const c = await h.connect();
    await c.write('GET /name HTTP/1.1\r\nHost: other.example.org\r\n\r\n');
    expect((await c.readResponse()).status).toBe(200);
    expect(serverName).toBe('www.example.com');
  });

  test('§6.5 protocol table: an HTTP/1.0 request to an HTTP/1.1 server gets an "HTTP/1.1" status line but no chunking, and a close', async () => {
    const h = await connServer();
    const c = await h.connect();
    const r = await get(c, '/stream', [], 'HTTP/1.0');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r.header('Transfer-Encoding')).toBeUndefined();
    expect(r.header('Content-Length')).toBeUndefined();
    expect(r.framing).toBe('close');
    expect(r.body.toString('latin1')).toBe('0123456789');
  });

  test('§6.5 an idle keep-alive connection is closed silently (no 408) after timeout', async () => {
    const h = await connServer();
    const c = await h.connect();
    expect((await get(c, '/pov')).status).toBe(200);
    const idleFrom = Date.now();
    expect(await untilClosed(c, 2 * TIMEOUT * 1000 + 1000)).toBe('');
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(TIMEOUT * 1000 * 0.9);
  });

  test('§6.0 normal response header order: app headers, Transfer-Encoding, then Date and Server (unless the app set them) (differs from cheroot: Connection and Keep-Alive come last)', async () => {
    const h = await connServer({
      '/dated': (_environ, resp) => {
        resp.headers.push(['Date', 'Thu, 01 Jan 1970 00:00:00 GMT'], ['Server', 'app']);
        return 'ok';
      },
    });
    const names = (r: { headers: [string, string][] }) => r.headers.map(([name]) => name);
    const c = await h.connect();
    expect(names(await get(c, '/stream'))).toEqual(['Content-Type', 'Transfer-Encoding', 'Date', 'Server']);
    const d = await h.connect();
    expect(names(await get(d, '/pov', ['Connection: Keep-Alive'], 'HTTP/1.0'))).toEqual(['Content-Type', 'Content-Length', 'Date', 'Server', 'Connection', 'Keep-Alive']);
    const dated = await get(c, '/dated');
    expect(dated.headerAll('Date')).toEqual(['Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(dated.headerAll('Server')).toEqual(['app']);
  });
});
