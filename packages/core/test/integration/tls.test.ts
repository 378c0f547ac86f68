/**
 * HTTPS interfaces with certificates made for the test, and client certificates verified against
 * a CA: valid, invalid and absent.
 */

import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Rocket, RocketError } from '@rocketserver/core';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { RawClient } from '../helpers/raw-client.js';
import { echoApp, serve, type Echo } from '../helpers/server.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

const REQUEST = 'GET /secure HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

describe('an HTTPS interface', () => {
  test('serves over TLS, with HTTPS and wsgi.url_scheme in the environ', async () => {
    const { server, port } = await serve(echoApp, {}, ['127.0.0.1', 0, certs.serverKey, certs.serverCert]);
    expect(server.addresses[0]).toMatchObject({ secure: true, family: 'IPv4' });
    const client = await RawClient.connectTls(port, { ca: certs.read(certs.caCert) });
    await client.write(REQUEST);
    const echo = JSON.parse((await client.readResponse()).body.toString()) as Echo;
    expect(echo.environ.HTTPS).toBe('on');
    expect(echo.environ['wsgi.url_scheme']).toBe('https');
    expect(echo.environ.SSL_CLIENT_RAW_CERT).toBeNull();
    await client.waitEnd();
  });

  test('plain and TLS interfaces side by side', async () => {
    const { server } = await serve(echoApp, {}, [
      ['127.0.0.1', 0],
      ['127.0.0.1', 0, certs.serverKey, certs.serverCert],
    ]);
    const [plain, secure] = server.addresses;
    const a = await RawClient.connect(plain!.port);
    await a.write(REQUEST);
    const plainEcho = JSON.parse((await a.readResponse()).body.toString()) as Echo;
    expect(plainEcho.environ['wsgi.url_scheme']).toBe('http');
    expect('HTTPS' in plainEcho.environ).toBe(false);
    expect(plainEcho.environ.SERVER_PORT).toBe(String(plain!.port));
    const b = await RawClient.connectTls(secure!.port, { ca: certs.read(certs.caCert) });
    await b.write(REQUEST);
    const secureEcho = JSON.parse((await b.readResponse()).body.toString()) as Echo;
    expect(secureEcho.environ.SERVER_PORT).toBe(String(secure!.port));
    a.destroy();
    b.destroy();
  });

  test('plain HTTP sent to a TLS port does not reach the app', async () => {
    let called = false;
    const { port } = await serve(() => {
      called = true;
      return [];
    }, {}, ['127.0.0.1', 0, certs.serverKey, certs.serverCert]);
    const client = await RawClient.connect(port);
    await client.write(REQUEST);
    await client.waitEnd();
    expect(called).toBe(false);
  });

  test('a missing key file fails start() naming the file', async () => {
    const server = new Rocket(['127.0.0.1', 0, '/nonexistent/key.pem', certs.serverCert], 'wsgi', { wsgi_app: echoApp });
    const error = await server.start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RocketError);
    expect((error as RocketError).code).toBe('ROCKET_ERR_TLS_FILE');
    expect((error as Error).message).toContain('"/nonexistent/key.pem"');
    expect(server.addresses).toEqual([]);
  });

  test('a missing CA file fails start() naming the file', async () => {
    const server = new Rocket(['127.0.0.1', 0, certs.serverKey, certs.serverCert, '/nonexistent/ca.pem'], 'wsgi', { wsgi_app: echoApp });
    await expect(server.start()).rejects.toThrow(/cannot read CA file "\/nonexistent\/ca\.pem"/);
  });

  test('a key that does not match the certificate fails start()', async () => {
    const server = new Rocket(['127.0.0.1', 0, certs.clientKey, certs.serverCert], 'wsgi', { wsgi_app: echoApp });
    await expect(server.start()).rejects.toMatchObject({ code: 'ROCKET_ERR_TLS_FILE' });
  });
});

describe('client certificates (a CA file on the interface)', () => {
  async function mtls() {
    return serve(echoApp, {}, ['127.0.0.1', 0, certs.serverKey, certs.serverCert, certs.caCert]);
  }

  test('a valid client certificate is accepted and shows as SSL_CLIENT_RAW_CERT in PEM', async () => {
    const { port } = await mtls();
    const client = await RawClient.connectTls(port, {
      ca: certs.read(certs.caCert),
      key: certs.read(certs.clientKey),
      cert: certs.read(certs.clientCert),
    });
    await client.write(REQUEST);
    const echo = JSON.parse((await client.readResponse()).body.toString()) as Echo;
    const pem = echo.environ.SSL_CLIENT_RAW_CERT as string;
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
    expect(new X509Certificate(pem).fingerprint256).toBe(new X509Certificate(certs.read(certs.clientCert)).fingerprint256);
    await client.waitEnd();
  });

  test('no client certificate is accepted too: it is optional', async () => {
    const { port } = await mtls();
    const client = await RawClient.connectTls(port, { ca: certs.read(certs.caCert) });
    await client.write(REQUEST);
    const echo = JSON.parse((await client.readResponse()).body.toString()) as Echo;
    expect(echo.environ.SSL_CLIENT_RAW_CERT).toBeNull();
    await client.waitEnd();
  });

  test('a certificate that does not verify ends the connection before any request is served', async () => {
    let served = 0;
    const { port } = await serve(() => {
      served++;
      return [];
    }, {}, ['127.0.0.1', 0, certs.serverKey, certs.serverCert, certs.caCert]);
    const outcome = await RawClient.connectTls(port, {
      ca: certs.read(certs.caCert),
      key: certs.read(certs.rogueKey),
      cert: certs.read(certs.rogueCert),
    }).then(
      async (client) => {
        await client.write(REQUEST).catch(() => {});
        const bytes = await client.readToEnd().catch(() => Buffer.alloc(0));
        return bytes.length === 0 ? 'closed' : `answered: ${bytes.toString('latin1')}`;
      },
      () => 'handshake failed',
    );
    expect(['closed', 'handshake failed']).toContain(outcome);
    expect(served).toBe(0);
  });
});
