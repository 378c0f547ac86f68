// WsgiDAV (before 2021): version and SSL adapter set on the class, keyword arguments from a
// config dict, try/except/finally:
//
//   wsgiserver.CherryPyWSGIServer.version = server_name
//   wsgiserver.CherryPyWSGIServer.ssl_adapter = BuiltinSSLAdapter(cert, key, chain)
//   server_args = {"bind_addr": (config["host"], config["port"]), "wsgi_app": app, "server_name": server_name}
//   server_args.update(config.get("server_args", {}))
//   server = wsgiserver.CherryPyWSGIServer(**server_args)
//   try: server.start()
//   except KeyboardInterrupt: _logger.warning("Caught Ctrl-C, shutting down...")
//   finally: server.stop()
//
// Run with `node 07-wsgidav.mjs cert key` for HTTPS.
import { BuiltinSSLAdapter, CherryPyWSGIServer, KeyboardInterrupt } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const config = { host: '127.0.0.1', port: PORT, server_args: { numthreads: 50 } };
const [cert, key] = process.argv.slice(2);
const server_name = 'WsgiDAV/4.0 Rocket';

CherryPyWSGIServer.version = server_name;
if (cert) CherryPyWSGIServer.ssl_adapter = new BuiltinSSLAdapter(cert, key);
const server_args = { bind_addr: [config.host, config.port], wsgi_app: hello('wsgidav'), server_name };
Object.assign(server_args, config.server_args ?? {});
const server = new CherryPyWSGIServer(server_args);
announce(server);
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  console.warn('Caught Ctrl-C, shutting down...');
} finally {
  await server.stop();
}
