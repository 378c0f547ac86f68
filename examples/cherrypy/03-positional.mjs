// Thread count and server name passed positionally (pycon_ie_2013; translate/pootle), the rest by
// keyword:
//
//   server = Server((host, port), app, int(threads), server_name, request_queue_size=int(queue))
//   try: server.start()
//   except KeyboardInterrupt: server.stop()
import { CherryPyWSGIServer, KeyboardInterrupt } from '@rocketserver/cherrypy-compat';
import { announce, hello, PORT } from './announce.mjs';

const options = { host: '127.0.0.1', port: String(PORT), threads: '4', server_name: 'pootle.example', request_queue_size: '50' };
const server = new CherryPyWSGIServer([options.host, Number(options.port)], hello('pootle'), Number(options.threads), options.server_name, {
  request_queue_size: Number(options.request_queue_size),
});
announce(server);
try {
  await server.start();
} catch (error) {
  if (!(error instanceof KeyboardInterrupt)) throw error;
  await server.stop();
}
