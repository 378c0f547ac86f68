// CherryPy's own docstring (wsgiserver2.py, 3.2–8.x): a server name, and a dispatcher.
//
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 8070), my_crazy_app, server_name='www.cherrypy.example')
//   d = WSGIPathInfoDispatcher({'/': my_crazy_app, '/blog': my_blog_app})
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 80), d)
//   server.start()
import { CherryPyWSGIServer, WSGIPathInfoDispatcher } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const my_crazy_app = hello('my_crazy_app');
const my_blog_app = hello('my_blog_app');

const d = WSGIPathInfoDispatcher({ '/': my_crazy_app, '/blog': my_blog_app });
const server = new CherryPyWSGIServer(['127.0.0.1', PORT], d, { server_name: 'www.cherrypy.example' });
announce(server);
await server.start();
