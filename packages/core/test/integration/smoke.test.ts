import { expect, test } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { echoApp, serve, textApp, type Echo } from '../helpers/server.js';

test('a GET gets the app response with Content-Length and keep-alive', async () => {
  const { port } = await serve(textApp('hello'));
  const client = await RawClient.connect(port);
  await client.write('GET /hello HTTP/1.1\r\nHost: example\r\n\r\n');
  const response = await client.readResponse();
  expect(response.statusLine).toBe('HTTP/1.1 200 OK');
  expect(response.header('content-length')).toBe('5');
  expect(response.header('connection')).toBe('keep-alive');
  expect(response.body.toString()).toBe('hello');
  client.destroy();
});

test('the echo app sees the environ', async () => {
  const { port } = await serve(echoApp);
  const client = await RawClient.connect(port);
  await client.write('POST /a%20b?x=1 HTTP/1.1\r\nHost: example\r\nContent-Length: 3\r\nX-Thing: yes\r\n\r\nabc');
  const response = await client.readResponse();
  const echo = JSON.parse(response.body.toString()) as Echo;
  expect(echo.body).toBe('abc');
  expect(echo.environ.PATH_INFO).toBe('/a b');
  expect(echo.environ.QUERY_STRING).toBe('x=1');
  expect(echo.environ.HTTP_X_THING).toBe('yes');
  client.destroy();
});
