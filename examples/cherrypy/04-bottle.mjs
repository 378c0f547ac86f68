// Bottle's CherryPyServer adapter: every argument by keyword from a dict, TLS from attributes set
// after construction, try/finally:
//
//   self.options['bind_addr'] = (self.host, self.port); self.options['wsgi_app'] = handler
//   server = wsgiserver.CherryPyWSGIServer(**self.options)
//   if certfile: server.ssl_certificate = certfile
//   if keyfile:  server.ssl_private_key = keyfile
//   try: server.start()
//   finally: server.stop()
//
// Run with `node 04-bottle.mjs [certfile keyfile]` for HTTPS.
import { CherryPyWSGIServer, KeyboardInterrupt } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const [certfile, keyfile] = process.argv.slice(2);
const options = { numthreads: 8, timeout: 30 };
options.bind_addr = ['127.0.0.1', PORT];
options.wsgi_app = hello('bottle');
const server = new CherryPyWSGIServer(options);
if (certfile) server.ssl_certificate = certfile;
if (keyfile) server.ssl_private_key = keyfile;
announce(server);
try {
  await server.start();
} catch (error) {
  // Python lets the KeyboardInterrupt through once `finally` has run: a traceback. The port ends
  // Ctrl-C cleanly instead.
  if (!(error instanceof KeyboardInterrupt)) throw error;
} finally {
  await server.stop();
}
