/**
 * The answers a server gives on paths of its own, ahead of the application: the readiness and
 * liveness probes, and the metrics in Prometheus text. Gateway apps like any other; the paths are
 * read from the options object on every request, so a change applies at once.
 */

import type { GatewayApp } from '../gateway/run-app.js';

/** The probe paths, as the options have them ('' for none). */
export interface ProbePaths {
  readonly readinessPath: string;
  readonly livenessPath: string;
}

/** The content type of the Prometheus text exposition format. */
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A gateway app answering GET and HEAD with the metrics, anything else with 405. */
export function metricsResponder(render: () => string | Promise<string>): GatewayApp {
  return (environ, startResponse) => {
    const method = environ.REQUEST_METHOD;
    if (method !== 'GET' && method !== 'HEAD') {
      startResponse('405 Method Not Allowed', [['Allow', 'GET, HEAD'], ['Content-Type', 'text/plain'], ['Content-Length', '0']]);
      return [];
    }
    const text = render();
    const respond = (body: string) => {
      startResponse('200 OK', [['Content-Type', METRICS_TYPE], ['Cache-Control', 'no-store']]);
      return [body];
    };
    return typeof text === 'string' ? respond(text) : text.then(respond);
  };
}

/**
 * `app`, except that `readinessPath` answers 200 while `ready()` and 503 after, and
 * `livenessPath` answers 200 (both read per request, matched on PATH_INFO exactly, any method).
 */
export function withProbes(app: GatewayApp, options: ProbePaths, ready: () => boolean): GatewayApp {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO;
    if (environ.SCRIPT_NAME === '' && path !== '' && (path === options.readinessPath || path === options.livenessPath)) {
      const up = path === options.livenessPath || ready();
      const body = up ? (path === options.livenessPath ? 'alive\n' : 'ready\n') : 'draining\n';
      startResponse(up ? '200 OK' : '503 Service Unavailable', [
        ['Content-Type', 'text/plain'],
        ['Content-Length', String(body.length)],
        ['Cache-Control', 'no-store'],
      ]);
      return environ.REQUEST_METHOD === 'HEAD' ? [] : [body];
    }
    return app(environ, startResponse);
  };
}

/** `app`, except that `metricsPath` (read per request) answers with the metrics. */
export function withMetricsPath(app: GatewayApp, options: { readonly metricsPath: string }, render: () => string | Promise<string>): GatewayApp {
  const metrics = metricsResponder(render);
  return (environ, startResponse) => {
    const path = options.metricsPath;
    if (path !== '' && environ.SCRIPT_NAME === '' && environ.PATH_INFO === path) return metrics(environ, startResponse);
    return app(environ, startResponse);
  };
}
