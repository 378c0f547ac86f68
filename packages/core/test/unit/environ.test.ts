/**
 * The PEP 3333 environ (src/gateway/environ.ts): path decoding, header keys, and the environ built from a
 * parsed head.
 */

import { describe, expect, test } from 'vitest';
import {
  buildEnviron,
  decodePath,
  environKey,
  type ConnectionInfo,
  type ServerInfo,
  type WsgiInput,
} from '../../src/gateway/environ.js';
import { HeadScan, parseRequestHead, type RequestHead } from '../../src/http/request-head.js';

const LIMITS = { maxRequestLine: 8192, maxHeaderSize: 16384, maxHeaders: 100 };

function parseHead(raw: string): RequestHead {
  const buf = Buffer.from(raw, 'latin1');
  const head = parseRequestHead(buf, 0, buf.length, LIMITS, new HeadScan());
  if (head === null) throw new Error(`not a complete head: ${JSON.stringify(raw)}`);
  return head;
}

const CONN: ConnectionInfo = {
  id: 1,
  remoteAddress: '192.0.2.7',
  remotePort: 50123,
  localAddress: '127.0.0.1',
  localPort: 8080,
  serverPort: 8080,
  secure: false,
  tls: null,
  onClose: () => {},
  destroy: () => {},
};

const TLS_CONN: ConnectionInfo = {
  ...CONN,
  secure: true,
  tls: {
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    alpnProtocol: false,
    authorized: true,
    peerCertificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  },
};

const ERRORS = { write() {}, writelines() {}, flush() {} };
const FILE_WRAPPER = () => undefined;

const SERVER: ServerInfo = {
  serverName: 'rocket.test',
  serverSoftware: 'Rocket/0.1.0',
  multithread: true,
  multiprocess: false,
  errors: ERRORS,
  fileWrapper: FILE_WRAPPER,
};

const INPUT: WsgiInput = {
  read: async () => Buffer.alloc(0),
  readline: async () => Buffer.alloc(0),
  readlines: async () => [],
  async *[Symbol.asyncIterator]() {},
};

function environOf(raw: string, conn: ConnectionInfo = CONN) {
  return buildEnviron(parseHead(raw), conn, SERVER, INPUT);
}

describe('decodePath (RFC 3986 §2.1 percent-encoding, PEP 3333 PATH_INFO)', () => {
  test('a path without "%" is returned as is', () => {
    const raw = '/a/b+c;d=e';
    expect(decodePath(raw)).toBe(raw);
  });

  test.each([
    ['/a%20b', '/a b'],
    ['%41bc', 'Abc'],
    ['/caf%C3%A9', '/caf\u00e9'],
    ['/caf%c3%a9', '/caf\u00e9'],
    ['/%F0%9F%98%80', '/\u{1F600}'],
    ['/a+b', '/a+b'],
    ['/%2B', '/+'],
    ['/%3F%23', '/?#'],
    ['/%00', '/\0'],
    ['/%25', '/%'],
  ])('%j → %j', (raw, decoded) => {
    expect(decodePath(raw)).toBe(decoded);
  });

  test('the reference vector: %2F stays encoded (upper-cased), %25 decodes, bad UTF-8 becomes U+FFFD', () => {
    // "%252F" decodes its "%25" to "%", so it becomes the text "%2F": after decoding, an encoded
    // "%2F" and an encoded slash look the same (see the report).
    expect(decodePath('/a%2Fb%2fc%252Fd/%C3%A9/%FF/%00/+x')).toBe('/a%2Fb%2Fc%2Fd/\u00e9/\uFFFD/\0/+x');
  });

  test('an encoded slash is never decoded to "/" (it would split a path segment)', () => {
    expect(decodePath('/a%2Fb')).toBe('/a%2Fb');
    expect(decodePath('/a%2fb')).toBe('/a%2Fb');
    expect(decodePath('/%2F%2F')).toBe('/%2F%2F');
  });

  test('"%252F" decodes to the text "%2F" (current behaviour)', () => {
    expect(decodePath('/a%252Fb')).toBe('/a%2Fb');
  });

  test('overlong UTF-8 for "/" (%C0%AF) does not become a slash (RFC 3629 §3)', () => {
    const decoded = decodePath('/..%C0%AF..%C0%AFetc');
    expect(decoded.split('/')).toHaveLength(2); // only the leading slash
    expect(decoded).toBe('/..\uFFFD\uFFFD..\uFFFD\uFFFDetc');
  });

  test('a truncated UTF-8 sequence becomes U+FFFD', () => {
    expect(decodePath('/%E2%82')).toBe('/\uFFFD');
    expect(decodePath('/%E2%82x')).toBe('/\uFFFDx');
  });

  test('dot segments are passed on, not resolved', () => {
    expect(decodePath('/a/%2e%2e/b')).toBe('/a/../b');
  });

  // As Python's urllib.parse.unquote: an escape that is not "%" and two hex digits stays as it is.
  test.each([
    ['/%zz', '/%zz'],
    ['/%4', '/%4'],
    ['/a%', '/a%'],
    ['/a%2', '/a%2'],
    ['%', '%'],
    ['/%g0', '/%g0'],
    ['/%0g', '/%0g'],
    ['/%%41', '/%A'],
    ['/a%%', '/a%%'],
    ['/100%/done', '/100%/done'],
    ['/%zz/%C3%A9/%2F/%', '/%zz/\u00e9/%2F/%'],
    ['/%E2%82%', '/\uFFFD%'],
  ])('malformed escape %j → %j, kept as it is', (raw, decoded) => {
    expect(decodePath(raw)).toBe(decoded);
  });
});

describe('environKey (PEP 3333 HTTP_ variables)', () => {
  test.each([
    ['X-Thing', 'HTTP_X_THING'],
    ['x-thing', 'HTTP_X_THING'],
    ['Host', 'HTTP_HOST'],
    ['Accept-Encoding', 'HTTP_ACCEPT_ENCODING'],
    ['Content-Type', 'CONTENT_TYPE'],
    ['content-type', 'CONTENT_TYPE'],
    ['Content-Length', null],
    ['CONTENT-LENGTH', null],
    ['X_Thing', null],
    ['Content_Type', null],
    ['Content_Length', null],
    ['_', null],
  ])('%j → %j', (name, key) => {
    expect(environKey(name)).toBe(key);
    expect(environKey(name)).toBe(key); // the cached answer is the same
  });
});

describe('buildEnviron', () => {
  test('PEP 3333 keys of a simple GET', () => {
    const head = parseHead('GET /p/a%20th?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n');
    const environ = buildEnviron(head, CONN, SERVER, INPUT);
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/p/a th',
      QUERY_STRING: 'x=1&y=%20',
      CONTENT_TYPE: '',
      CONTENT_LENGTH: '',
      SERVER_NAME: 'rocket.test',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: 'Rocket/0.1.0',
      REMOTE_ADDR: '192.0.2.7',
      REMOTE_PORT: '50123',
      REQUEST_URI: '/p/a%20th?x=1&y=%20',
      HTTP_HOST: 'example.com',
      'wsgi.version': [1, 0],
      'wsgi.url_scheme': 'http',
      'wsgi.multithread': true,
      'wsgi.multiprocess': false,
      'wsgi.run_once': false,
    });
    expect(environ['wsgi.input']).toBe(INPUT);
    expect(environ['wsgi.errors']).toBe(ERRORS);
    expect(environ['wsgi.file_wrapper']).toBe(FILE_WRAPPER);
    expect(environ['rocket.raw_headers']).toBe(head.rawHeaders);
    expect(environ['rocket.connection']).toBe(CONN);
    expect('HTTPS' in environ).toBe(false);
    expect('SSL_CLIENT_RAW_CERT' in environ).toBe(false);
    expect(Object.keys(environ).filter((k) => k.startsWith('HTTP_'))).toEqual(['HTTP_HOST']);
  });

  test('SERVER_PROTOCOL follows the request version', () => {
    expect(environOf('GET / HTTP/1.0\r\n\r\n').SERVER_PROTOCOL).toBe('HTTP/1.0');
    expect(environOf('GET / HTTP/1.1\r\nHost: a\r\n\r\n').SERVER_PROTOCOL).toBe('HTTP/1.1');
  });

  test('QUERY_STRING is the raw text after the first "?"; REQUEST_URI is the target as sent', () => {
    const environ = environOf('GET /p%2Fq?a=%2F&b=?c+d HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(environ.PATH_INFO).toBe('/p%2Fq');
    expect(environ.QUERY_STRING).toBe('a=%2F&b=?c+d');
    expect(environ.REQUEST_URI).toBe('/p%2Fq?a=%2F&b=?c+d');
    expect(environOf('GET /p? HTTP/1.1\r\nHost: a\r\n\r\n').QUERY_STRING).toBe('');
  });

  test('repeated header fields are joined with ", " in order (RFC 9110 §5.3)', () => {
    const environ = environOf('GET / HTTP/1.1\r\nHost: a\r\nX-Thing: 1\r\nx-thing: 2\r\nX-THING: 3\r\n\r\n');
    expect(environ.HTTP_X_THING).toBe('1, 2, 3');
  });

  test('Cookie fields are joined with "; " (RFC 6265 §5.4)', () => {
    const environ = environOf('GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\ncookie: b=2\r\n\r\n');
    expect(environ.HTTP_COOKIE).toBe('a=1; b=2');
  });

  test('Content-Type and Content-Length get their CGI keys, not HTTP_ ones', () => {
    const environ = environOf(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n',
    );
    expect(environ.CONTENT_TYPE).toBe('text/plain');
    expect(environ.CONTENT_LENGTH).toBe('5');
    expect('HTTP_CONTENT_TYPE' in environ).toBe(false);
    expect('HTTP_CONTENT_LENGTH' in environ).toBe(false);
  });

  test('repeated Content-Type fields are joined with ", "', () => {
    const environ = environOf('POST / HTTP/1.1\r\nHost: a\r\nContent-Type: a/b\r\ncontent-type: c/d\r\n\r\n');
    expect(environ.CONTENT_TYPE).toBe('a/b, c/d');
  });

  test('field names with "_" get no key but stay in rocket.raw_headers (spoofing guard)', () => {
    const environ = environOf(
      'GET / HTTP/1.1\r\nHost: a\r\nX-User: real\r\nX_User: spoofed\r\nContent_Type: x/y\r\n\r\n',
    );
    expect(environ.HTTP_X_USER).toBe('real');
    expect(environ.CONTENT_TYPE).toBe('');
    expect(Object.values(environ)).not.toContain('spoofed');
    expect(environ['rocket.raw_headers']).toEqual(['Host', 'a', 'X-User', 'real', 'X_User', 'spoofed', 'Content_Type', 'x/y']);
  });

  test('field values keep obs-text as latin1 characters (RFC 9110 §5.5)', () => {
    expect(environOf('GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n').HTTP_X).toBe('caf\xe9');
  });

  test('absolute-form: HTTP_HOST is the authority, the Host field is ignored (RFC 9112 §3.2.2)', () => {
    const environ = environOf('GET http://example.com:8080/p/%C3%A9?x=1 HTTP/1.1\r\nHost: other\r\n\r\n');
    expect(environ.HTTP_HOST).toBe('example.com:8080');
    expect(environ.PATH_INFO).toBe('/p/\u00e9');
    expect(environ.QUERY_STRING).toBe('x=1');
    expect(environ.REQUEST_URI).toBe('http://example.com:8080/p/%C3%A9?x=1');
  });

  test('absolute-form with an empty path: PATH_INFO is "/" (RFC 9110 §4.2.3)', () => {
    expect(environOf('GET http://example.com HTTP/1.1\r\nHost: a\r\n\r\n')).toMatchObject({
      HTTP_HOST: 'example.com',
      PATH_INFO: '/',
      QUERY_STRING: '',
    });
    expect(environOf('GET http://example.com?q=1 HTTP/1.1\r\nHost: a\r\n\r\n')).toMatchObject({
      HTTP_HOST: 'example.com',
      PATH_INFO: '/',
      QUERY_STRING: 'q=1',
    });
  });

  test('absolute-form in HTTP/1.0 without Host still sets HTTP_HOST', () => {
    expect(environOf('GET https://example.com/x HTTP/1.0\r\n\r\n')).toMatchObject({
      HTTP_HOST: 'example.com',
      PATH_INFO: '/x',
    });
  });

  test('asterisk-form: PATH_INFO "*"', () => {
    expect(environOf('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n')).toMatchObject({ PATH_INFO: '*', QUERY_STRING: '' });
  });

  test('authority-form (CONNECT): empty PATH_INFO', () => {
    expect(environOf('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n')).toMatchObject({
      PATH_INFO: '',
      REQUEST_URI: 'a.example:443',
    });
  });

  test('a malformed escape in the path reaches the app: REQUEST_URI raw, PATH_INFO with the escape kept', () => {
    expect(environOf('GET /a%zz/%41%/%2f HTTP/1.1\r\nHost: a\r\n\r\n')).toMatchObject({
      PATH_INFO: '/a%zz/A%/%2F',
      REQUEST_URI: '/a%zz/%41%/%2f',
    });
    expect(environOf('GET /% HTTP/1.1\r\nHost: a\r\n\r\n')).toMatchObject({ PATH_INFO: '/%', REQUEST_URI: '/%' });
    expect(environOf('GET /a?%zz HTTP/1.1\r\nHost: a\r\n\r\n').QUERY_STRING).toBe('%zz');
  });

  test('HTTPS and SSL_CLIENT_RAW_CERT only on a secure connection', () => {
    const environ = environOf('GET / HTTP/1.1\r\nHost: a\r\n\r\n', TLS_CONN);
    expect(environ.HTTPS).toBe('on');
    expect(environ['wsgi.url_scheme']).toBe('https');
    expect(environ.SSL_CLIENT_RAW_CERT).toBe(TLS_CONN.tls!.peerCertificatePem);

    const noCert = environOf('GET / HTTP/1.1\r\nHost: a\r\n\r\n', {
      ...TLS_CONN,
      tls: { ...TLS_CONN.tls!, peerCertificatePem: null },
    });
    expect(noCert.HTTPS).toBe('on');
    expect('SSL_CLIENT_RAW_CERT' in noCert).toBe(true);
    expect(noCert.SSL_CLIENT_RAW_CERT).toBeNull();

    const plain = environOf('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect('HTTPS' in plain).toBe(false);
    expect('SSL_CLIENT_RAW_CERT' in plain).toBe(false);
    expect(plain['wsgi.url_scheme']).toBe('http');
  });

  test('a header cannot overwrite a CGI key', () => {
    const environ = environOf(
      'GET / HTTP/1.1\r\nHost: a\r\nRequest-Method: POST\r\nPath-Info: /x\r\nRemote-Addr: 10.0.0.1\r\n\r\n',
    );
    expect(environ.REQUEST_METHOD).toBe('GET');
    expect(environ.PATH_INFO).toBe('/');
    expect(environ.REMOTE_ADDR).toBe('192.0.2.7');
    expect(environ.HTTP_REQUEST_METHOD).toBe('POST');
    expect(environ.HTTP_REMOTE_ADDR).toBe('10.0.0.1');
  });
});

describe('an environ without the field keys (an app that reads rocket.raw_headers only)', () => {
  test('has no HTTP_* keys and an empty CONTENT_TYPE; the raw fields and CONTENT_LENGTH are there', () => {
    const head = parseHead('POST /a?b HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nX-One: 1\r\n\r\n');
    const environ = buildEnviron(head, CONN, SERVER, INPUT, undefined, false);
    expect(Object.keys(environ).filter((key) => key.startsWith('HTTP_'))).toEqual([]);
    expect(environ.CONTENT_TYPE).toBe('');
    expect(environ.CONTENT_LENGTH).toBe('3');
    expect(environ['rocket.raw_headers']).toEqual(['Host', 'h', 'Content-Type', 'text/plain', 'Content-Length', '3', 'X-One', '1']);
    expect(environ.PATH_INFO).toBe('/a');
    expect(environ.QUERY_STRING).toBe('b');
    // The same head with them: everything else is the same.
    const full = buildEnviron(head, CONN, SERVER, INPUT);
    const { HTTP_HOST, HTTP_X_ONE, CONTENT_TYPE, ...rest } = full;
    expect([HTTP_HOST, HTTP_X_ONE, CONTENT_TYPE]).toEqual(['h', '1', 'text/plain']);
    expect(Object.keys(environ).sort()).toEqual(Object.keys({ ...rest, CONTENT_TYPE }).sort());
  });
});
