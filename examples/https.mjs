// Plain HTTP and HTTPS side by side, as Rocket interfaces: [host, port] and
// [host, port, keyFile, certFile]. Run with `node examples/https.mjs KEY CERT`.
import { Rocket } from '@rocketserver/core';

const [keyFile, certFile] = process.argv.slice(2);
if (!keyFile || !certFile) {
  console.error('usage: node examples/https.mjs key.pem cert.pem');
  process.exit(2);
}

const app = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`scheme: ${environ['wsgi.url_scheme']}\n`];
};

const server = new Rocket(
  [
    ['127.0.0.1', Number(process.env.PORT ?? 8000)],
    ['127.0.0.1', Number(process.env.TLS_PORT ?? 8443), keyFile, certFile],
  ],
  'wsgi',
  { wsgi_app: app },
);
await server.start();
for (const { host, port, secure } of server.addresses) console.log(`listening on http${secure ? 's' : ''}://${host}:${port}/`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.stop());
