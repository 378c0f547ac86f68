// CherryPy's own docstring (wsgiserver2.py, 3.2–8.x): a server name, and a dispatcher.
//
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 8070), my_crazy_app, server_name='www.cherrypy.example')
//   d = WSGIPathInfoDispatcher({'/': my_crazy_app, '/blog': my_blog_app})
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 80), d)
//   server.start()
import { CherryPyWSGIServer, KeyboardInterrupt, WSGIPathInfoDispatcher } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const my_crazy_app = hello('my_crazy_app');
const my_blog_app = hello('my_blog_app');

const d = WSGIPathInfoDispatcher({ '/': my_crazy_app, '/blog': my_blog_app });
const server = new CherryPyWSGIServer(['127.0.0.1', PORT], d, { server_name: 'www.cherrypy.example' });
announce(server);
// The snippet calls start() bare, so Python ends a Ctrl-C with a KeyboardInterrupt traceback; the
// port catches it and stops the server, so Ctrl-C ends the program cleanly.
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  await server.stop();
}
