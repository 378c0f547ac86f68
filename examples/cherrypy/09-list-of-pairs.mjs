// CherryPy 3.0/3.1 took a list of (mount point, app) pairs as the app (Flask-Skeleton-App,
// cybercom_tools):
//
//   wsgi_apps = [('/', app)]
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 5006), wsgi_apps, request_queue_size=500, server_name='localhost')
//   server.start()
import { CherryPyWSGIServer } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const wsgi_apps = [['/', hello('app')], ['/api', hello('api')]];
const server = new CherryPyWSGIServer(['127.0.0.1', PORT], wsgi_apps, { request_queue_size: 500, server_name: 'localhost' });
announce(server);
await server.start();
