// web.py: TLS configured on the class before the app runs, nodelay set on the instance:
//
//   CherryPyWSGIServer.ssl_certificate = "ssl/server.crt"
//   CherryPyWSGIServer.ssl_private_key = "ssl/server.key"
//   server = wsgiserver.CherryPyWSGIServer(server_address, wsgi_app, server_name="localhost")
//   server.nodelay = not sys.platform.startswith('java')
//   try: server.start()
//   except (KeyboardInterrupt, SystemExit): server.stop()
//
// Run with `node 06-webpy.mjs server.crt server.key`.
import { CherryPyWSGIServer, KeyboardInterrupt, SystemExit } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const [crt, key] = process.argv.slice(2);
CherryPyWSGIServer.ssl_certificate = crt;
CherryPyWSGIServer.ssl_private_key = key;

const server = new CherryPyWSGIServer(['127.0.0.1', PORT], hello('webpy'), { server_name: 'localhost' });
server.nodelay = !process.platform.startsWith('java');
announce(server);
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt || error instanceof SystemExit)) throw error;
  await server.stop();
}
