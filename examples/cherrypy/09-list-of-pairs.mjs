// CherryPy 3.0/3.1 took a list of (mount point, app) pairs as the app (Flask-Skeleton-App,
// cybercom_tools):
//
//   wsgi_apps = [('/', app)]
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 5006), wsgi_apps, request_queue_size=500, server_name='localhost')
//   server.start()
import { CherryPyWSGIServer, KeyboardInterrupt } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const wsgi_apps = [['/', hello('app')], ['/api', hello('api')]];
const server = new CherryPyWSGIServer(['127.0.0.1', PORT], wsgi_apps, { request_queue_size: 500, server_name: 'localhost' });
announce(server);
// The snippet calls start() bare, so Python ends a Ctrl-C with a KeyboardInterrupt traceback; the
// port catches it and stops the server, so Ctrl-C ends the program cleanly.
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  await server.stop();
}
