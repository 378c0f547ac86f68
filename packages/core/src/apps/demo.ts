/** Rocket's demo page, served by `rocket` when no app is given. */

import type { GatewayApp } from '../gateway/run-app.js';
import { VERSION } from '../version.js';

const PAGE = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Rocket for Node</title></head>
<body>
<h1>Hello from Rocket Web Server</h1>
<p>Rocket for Node ${VERSION} is serving this page.</p>
</body>
</html>
`;

/**
 * The demo gateway app: an HTML page saying "Hello from Rocket Web Server".
 * @example
 * new Rocket(['127.0.0.1', 8000], 'wsgi', { wsgi_app: demoApp });
 */
export const demoApp: GatewayApp = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
  return [PAGE];
};
