// The Flask-on-CherryPy recipe (binder-project/binder, ChemicalStructureWebService):
//
//   d = wsgiserver.WSGIPathInfoDispatcher({'/': app})
//   server = wsgiserver.CherryPyWSGIServer(('0.0.0.0', 80), d)
//   try: server.start()
//   except KeyboardInterrupt: server.stop()
import { CherryPyWSGIServer, KeyboardInterrupt, WSGIPathInfoDispatcher } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const app = hello('app');
const d = WSGIPathInfoDispatcher({ '/': app });
const server = new CherryPyWSGIServer(['127.0.0.1', PORT], d);
announce(server);
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  await server.stop();
  console.log('stopped by Ctrl-C');
}
