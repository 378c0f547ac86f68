// PasteScript's egg:PasteScript#cherrypy runner: keyword arguments, an SSL adapter built from one
// PEM holding certificate and key, and the protocol set after construction:
//
//   server = wsgiserver.CherryPyWSGIServer(bind_addr, app, server_name=server_name, **kwargs)
//   if is_ssl:
//       server.ssl_module = 'builtin'
//       server.ssl_adapter = BuiltinSSLAdapter(ssl_pem, ssl_pem)
//   if protocol_version: server.protocol = protocol_version
//   try: server.start()
//   except (KeyboardInterrupt, SystemExit): server.stop()
//
// Run with `node 05-pastescript.mjs [pem]` for HTTPS (the PEM holds the certificate and the key).
import { BuiltinSSLAdapter, CherryPyWSGIServer, KeyboardInterrupt, SystemExit } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const ssl_pem = process.argv[2];
const kwargs = { numthreads: 10, request_queue_size: 5, timeout: 10 };
const server = new CherryPyWSGIServer(['127.0.0.1', PORT], hello('paste'), { server_name: 'paste.example', ...kwargs });
if (ssl_pem) {
  server.ssl_module = 'builtin';
  server.ssl_adapter = new BuiltinSSLAdapter(ssl_pem, ssl_pem);
}
const protocol_version = 'HTTP/1.0';
if (protocol_version) server.protocol = protocol_version;
announce(server);
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt || error instanceof SystemExit)) throw error;
  await server.stop();
}
