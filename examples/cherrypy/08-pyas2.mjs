// pyas2's runas2server: keyword constructor, a two-mount dispatcher, and the SSL adapter class
// looked up by name:
//
//   dispatcher = wsgiserver.WSGIPathInfoDispatcher({'/': servedjango, '/static': servestaticfiles})
//   pyas2server = wsgiserver.CherryPyWSGIServer(bind_addr=('0.0.0.0', port), wsgi_app=dispatcher, server_name='pyas2-webserver')
//   adapter_class = wsgiserver.get_ssl_adapter_class('builtin')
//   pyas2server.ssl_adapter = adapter_class(ssl_certificate, ssl_private_key)
//   try: pyas2server.start()
//   except KeyboardInterrupt: pyas2server.stop()
//
// Run with `node 08-pyas2.mjs [cert key]` for HTTPS.
import { CherryPyWSGIServer, get_ssl_adapter_class, KeyboardInterrupt, WSGIPathInfoDispatcher } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const [ssl_certificate, ssl_private_key] = process.argv.slice(2);
const dispatcher = WSGIPathInfoDispatcher({ '/': hello('servedjango'), '/static': hello('servestaticfiles') });
const pyas2server = new CherryPyWSGIServer({ bind_addr: ['127.0.0.1', PORT], wsgi_app: dispatcher, server_name: 'pyas2-webserver' });
if (ssl_certificate) {
  const adapter_class = get_ssl_adapter_class('builtin');
  pyas2server.ssl_adapter = new adapter_class(ssl_certificate, ssl_private_key);
}
announce(pyas2server);
try {
  await pyas2server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  await pyas2server.stop();
}
