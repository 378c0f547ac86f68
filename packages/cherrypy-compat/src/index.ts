/**
 * `@rocketserver/cherrypy-compat`: CherryPy's `CherryPyWSGIServer` (cheroot's `WSGIServer`) and
 * the names imported with it, on Rocket — so CherryPy-, cheroot- and web2py-style startup code
 * ports line for line.
 */

export { CherryPyWSGIServer, WSGIServer, WSGIPathInfoDispatcher, type WorkerPoolView } from './server.js';
export type { BindAddr, ServerArgs, WsgiApp } from './args.js';
export { LOG_LEVELS } from './options.js';
export { SSLAdapter, BuiltinSSLAdapter, pyOpenSSLAdapter, get_ssl_adapter_class, type SSLContext } from './ssl.js';
export { KeyboardInterrupt, SystemExit, type Interrupt } from './interrupts.js';
export { refusalFor, simpleResponse, appLevelRefusal, type Refusal } from './wire.js';

/** cheroot's `PathInfoDispatcher`. */
export { WSGIPathInfoDispatcher as PathInfoDispatcher } from './server.js';
