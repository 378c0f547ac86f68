/**
 * What a server tells its operator: log lines on Rocket's channels, the access log in every
 * format (server refusals included, never a stale status), diagnostics_channel events, stats()
 * and the Prometheus exposition.
 */

import diagnostics from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Rocket, type Environ, type GatewayApp, type RocketOptions } from '@rocketserver/core';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { RawClient } from '../helpers/raw-client.js';
import { memoryLogger, serve, textApp, type LogLine } from '../helpers/server.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

const app: GatewayApp = async (environ, start) => {
  switch (environ.PATH_INFO) {
    case '/fail':
      throw new Error('the app broke');
    case '/missing':
      start('404 Not Found', [['Content-Type', 'text/plain']]);
      return ['nothing here'];
    case '/slow':
      await new Promise((resolve) => setTimeout(resolve, 30));
      break;
  }
  start('200 OK', [['Content-Type', 'text/plain']]);
  return ['hello'];
};

async function exchange(port: number, text: string): Promise<number> {
  const client = await RawClient.connect(port);
  await client.write(text);
  const response = await client.readResponse();
  client.destroy();
  return response.status;
}

const channelLines = (logs: LogLine[], channel: string) => logs.filter((l) => l.channel === channel);

describe('log channels', () => {
  test('server events on Rocket, with * for TLS; app errors on Rocket.Errors; handshakes on Rocket.Errors.Port<n>', async () => {
    const logger = memoryLogger();
    const server = new Rocket(
      [
        ['127.0.0.1', 0],
        ['127.0.0.1', 0, certs.serverKey, certs.serverCert],
      ],
      'wsgi',
      { wsgi_app: app },
      { logger, logLevel: 'debug', handleSignals: false },
    );
    await server.start();
    const [plain, secure] = server.addresses;
    expect(await exchange(plain!.port, 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n')).toBe(500);
    // Not TLS on the TLS port: the handshake fails.
    const client = await RawClient.connect(secure!.port);
    await client.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.readToEnd();
    await server.stop();
    expect(channelLines(logger.lines, 'Rocket').map((l) => `${l.level} ${l.message}`)).toEqual([
      `info Starting Rocket ${server.options.serverSoftware}`,
      `info Listening on sockets: 127.0.0.1:${plain!.port}, 127.0.0.1:${secure!.port}*`,
      `info Stopping Rocket ${server.options.serverSoftware}`,
    ]);
    expect(channelLines(logger.lines, 'Rocket.Errors')).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/^GET \/fail HTTP\/1\.1: the application failed: .*the app broke/) }),
    );
    expect(channelLines(logger.lines, `Rocket.Errors.Port${secure!.port}`)).toContainEqual(
      expect.objectContaining({ level: 'debug', message: expect.stringContaining('TLS handshake failed') }),
    );
  });

  test('deadlines on Rocket.Monitor, pool resizes on Rocket.Errors.ThreadPool', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { port, logs } = await serve(
      async (environ, start) => {
        if (environ.PATH_INFO === '/wait') await gate;
        start('200 OK', []);
        return ['ok'];
      },
      { headerTimeout: 0.2, minThreads: 1, maxThreads: 2 },
    );
    const slow = await RawClient.connect(port);
    await slow.write('GET / HTTP/1.1\r\nHo');
    expect((await slow.readResponse()).status).toBe(408);
    expect(channelLines(logs, 'Rocket.Monitor')).toContainEqual(expect.objectContaining({ level: 'debug', message: expect.stringContaining('the request head did not arrive in time') }));
    const waiting = [await RawClient.connect(port), await RawClient.connect(port)];
    for (const client of waiting) await client.write('GET /wait HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => channelLines(logs, 'Rocket.Errors.ThreadPool').map((l) => l.message), { timeout: 5000 }).toContain('Growing by 1.');
    release();
    for (const client of waiting) expect((await client.readResponse()).status).toBe(200);
  });

  test('levels per channel: a parent’s level covers its children; the rest take logLevel', async () => {
    const logger = memoryLogger();
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, {
      logger,
      logLevel: 'warn',
      logLevels: { 'Rocket.Errors': 'silent', 'Rocket.Requests': 'info' },
      accessLog: 'rocket',
      handleSignals: false,
    });
    await server.start();
    await exchange(server.addresses[0]!.port, 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n');
    await server.stop();
    // Rocket's info lines are below warn; Rocket.Errors is silent; the access line passes.
    expect(logger.lines.map((l) => l.channel)).toEqual(['Rocket.Requests']);
  });

  test('a logger without child() gets the channel as a prefix — except access lines', async () => {
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m), info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const server = new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { logger, accessLog: 'rocket', handleSignals: false });
    await server.start();
    await exchange(server.addresses[0]!.port, 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n');
    await server.stop();
    expect(lines[0]).toBe(`Rocket: Starting Rocket ${server.options.serverSoftware}`);
    expect(lines).toContainEqual(expect.stringMatching(/^Rocket\.Errors: GET \/fail HTTP\/1\.1: the application failed/));
    expect(lines).toContainEqual(expect.stringMatching(/^127\.0\.0\.1 - "GET \/fail HTTP\/1\.1" - 500 \d+$/));
  });
});

describe('the access log', () => {
  async function logged(options: RocketOptions, requests: string[]): Promise<string[]> {
    const { port, logs } = await serve(app, { minThreads: 1, ...options });
    for (const request of requests) {
      const client = await RawClient.connect(port);
      await client.write(request);
      await client.readToEnd();
    }
    return channelLines(logs, 'Rocket.Requests').map((l) => l.message);
  }

  test("Rocket's format, with this request's status and size (Rocket logged the previous one's)", async () => {
    const { port, logs } = await serve(app, { accessLog: 'rocket' });
    const client = await RawClient.connect(port);
    // One connection: a 200, a 404 from the app, then a request the server refuses.
    await client.write('GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /missing HTTP/1.1\r\nHost: t\r\n\r\nGET /x y HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.readToEnd();
    const lines = channelLines(logs, 'Rocket.Requests').map((l) => l.message);
    expect(lines.slice(0, 2)).toEqual(['127.0.0.1 - "GET /a HTTP/1.1" - 200 5', '127.0.0.1 - "GET /missing HTTP/1.1" - 404 12']);
    expect(lines[2]).toMatch(/^127\.0\.0\.1 - "GET \/x y HTTP\/1\.1" - 400 \d+$/);
  });

  test('common and combined, as Apache writes them', async () => {
    const request = 'GET /a?b=1 HTTP/1.1\r\nHost: t\r\nReferer: http://example.com/\r\nUser-Agent: tester "1.0"\r\nConnection: close\r\n\r\n';
    const time = String.raw`\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\]`;
    const [common] = await logged({ accessLog: 'common' }, [request]);
    expect(common).toMatch(new RegExp(String.raw`^127\.0\.0\.1 - - ${time} "GET /a\?b=1 HTTP/1\.1" 200 5$`));
    const [combined] = await logged({ accessLog: 'combined' }, [request]);
    expect(combined).toMatch(new RegExp(String.raw`^127\.0\.0\.1 - - ${time} "GET /a\?b=1 HTTP/1\.1" 200 5 "http://example\.com/" "tester \\"1\.0\\""$`));
  });

  test('a custom format: method, path, query, protocol, header, duration', async () => {
    const [line] = await logged({ accessLog: '%m %U %q %H %>s %b %{Host}i %{X-Missing}i %D %{ms}T %%' }, [
      'GET /slow?x=1 HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n',
    ]);
    const match = /^GET \/slow \?x=1 HTTP\/1\.1 200 5 example - (\d+) (\d+) %$/.exec(line!);
    expect(match).not.toBeNull();
    // The app waited 30 ms: the duration is at least that.
    expect(Number(match![1])).toBeGreaterThanOrEqual(29_000);
    expect(Number(match![2])).toBeGreaterThanOrEqual(29);
  });

  test('requests the server refuses are logged with their real status: 400, 408, 413, 431, 503', async () => {
    const lines = await logged({ accessLog: 'rocket', headerTimeout: 0.2, maxBodySize: 10, maxHeaderSize: 100 }, [
      'GET /a b HTTP/1.1\r\nHost: t\r\n\r\n',
      'GET /slow HTTP/1.1\r\nHo',
      'POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: t\r\nX: ${'a'.repeat(200)}\r\n\r\n`,
    ]);
    expect(lines.map((l) => / - (\d{3}) \d+$/.exec(l)?.[1])).toEqual(['400', '408', '413', '431']);
    expect(lines[1]).toBe(`127.0.0.1 - "GET /slow HTTP/1.1" - 408 ${lines[1]!.split(' ').pop()}`);
    expect(lines[2]).toMatch(/^127\.0\.0\.1 - "POST \/ HTTP\/1\.1" - 413 \d+$/);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { server, port, logs } = await serve(
      async (_environ, start) => {
        await gate;
        start('200 OK', []);
        return ['ok'];
      },
      { accessLog: 'rocket', minThreads: 1, maxThreads: 1, queueSize: 0 },
    );
    const busy = await RawClient.connect(port);
    await busy.write('GET /busy HTTP/1.1\r\nHost: t\r\n\r\n');
    await expect.poll(() => server.stats().pool.busy).toBe(1);
    const refused = await RawClient.connect(port);
    expect((await refused.readResponse()).status).toBe(503);
    release();
    expect((await busy.readResponse()).status).toBe(200);
    const served = channelLines(logs, 'Rocket.Requests').map((l) => l.message);
    expect(served[0]).toMatch(/^127\.0\.0\.1 - "-" - 503 \d+$/);
    expect(served[1]).toBe('127.0.0.1 - "GET /busy HTTP/1.1" - 200 2');
  });

  test('control characters and quotes from the client cannot forge log lines', async () => {
    const [line] = await logged({ accessLog: '"%{User-Agent}i" "%r"' }, ['GET /%22x HTTP/1.1\r\nHost: t\r\nUser-Agent: a"b\xe9\\c\r\nConnection: close\r\n\r\n']);
    expect(line).toBe('"a\\"b\\xe9\\\\c" "GET /%22x HTTP/1.1"');
  });

  test('an unknown directive is refused when the server is made', () => {
    expect(() => new Rocket(['127.0.0.1', 0], 'wsgi', { wsgi_app: app }, { accessLog: '%h %Z' })).toThrow(/accessLog: .*unknown directive %Z/);
  });
});

describe('diagnostics_channel', () => {
  test('rocket.request.start and rocket.request.finish carry the environ, the status, the size and the duration', async () => {
    const seen: string[] = [];
    const onStart = (message: unknown) => seen.push(`start ${(message as { environ: Environ }).environ.PATH_INFO as string}`);
    const onFinish = (message: unknown) => {
      const { environ, status, bytes, durationMs } = message as { environ: Environ; status: number; bytes: number; durationMs: number };
      seen.push(`finish ${environ.PATH_INFO as string} ${status} ${bytes} ${durationMs >= 0}`);
    };
    diagnostics.subscribe('rocket.request.start', onStart);
    diagnostics.subscribe('rocket.request.finish', onFinish);
    try {
      const { port } = await serve(app);
      await exchange(port, 'GET /a HTTP/1.1\r\nHost: t\r\n\r\n');
      await exchange(port, 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n');
      await expect.poll(() => seen.length).toBe(4);
      expect(seen).toEqual(['start /a', 'finish /a 200 5 true', 'start /fail', expect.stringMatching(/^finish \/fail 500 \d+ true$/)]);
    } finally {
      diagnostics.unsubscribe('rocket.request.start', onStart);
      diagnostics.unsubscribe('rocket.request.finish', onFinish);
    }
  });
});

describe('stats()', () => {
  test('requests by class, client errors by status, app errors, timeouts, bytes, latency, connections closed', async () => {
    const { server, port } = await serve(app, { headerTimeout: 0.2 });
    await exchange(port, 'GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await exchange(port, 'GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    await exchange(port, 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n');
    await exchange(port, 'GET /a b HTTP/1.1\r\nHost: t\r\n\r\n');
    await exchange(port, 'GET / HTTP/1.1\r\nHo');
    await expect.poll(() => server.stats().connections.open).toBe(0);
    const stats = server.stats();
    expect(stats.requests).toEqual({ total: 5, inFlight: 0, byClass: { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 3, '5xx': 1 } });
    expect(stats.errors).toEqual({ client: { 400: 1, 408: 1 }, app: 1, timeouts: 1 });
    expect(stats.connections).toMatchObject({ accepted: 5, closed: 5, open: 0 });
    expect(stats.bytes.received).toBe(
      ['GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 'GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n', 'GET /a b HTTP/1.1\r\nHost: t\r\n\r\n', 'GET / HTTP/1.1\r\nHo'].join('').length,
    );
    expect(stats.bytes.sent).toBeGreaterThan(0);
    expect(stats.latency.count).toBe(5);
    expect(stats.latency.p50).toBeLessThanOrEqual(stats.latency.p99);
    expect(stats.latency.p99).toBeLessThanOrEqual(stats.latency.max);
  });
});

/** The samples of a Prometheus text exposition, checked for well-formedness as they are read. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-z_:][a-z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = /^([a-z_:][a-z0-9_:]*)(\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+|\+Inf)$/.exec(line);
    expect(sample, `malformed line: ${line}`).not.toBeNull();
    const family = sample![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(sample![1]!) || types.get(family) === 'histogram', `no TYPE before ${line}`).toBe(true);
    samples.set(`${sample![1]}${sample![2] ?? ''}`, Number(sample![3]));
  }
  return { types, samples };
}

describe('Prometheus metrics', () => {
  test('on a path of every interface: counters, gauges and a latency histogram that agree with stats()', async () => {
    const { server, port } = await serve(app, { metricsPath: '/metrics' });
    await exchange(port, 'GET /a HTTP/1.1\r\nHost: t\r\n\r\n');
    await exchange(port, 'GET /fail HTTP/1.1\r\nHost: t\r\n\r\n');
    const client = await RawClient.connect(port);
    await client.write('GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n');
    const response = await client.readResponse();
    client.destroy();
    expect(response.header('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parsePrometheus(response.body.toString());
    expect(types.get('rocket_requests_total')).toBe('counter');
    expect(types.get('rocket_connections_open')).toBe('gauge');
    expect(types.get('rocket_request_duration_seconds')).toBe('histogram');
    expect(samples.get('rocket_requests_total{code="2xx"}')).toBe(1);
    expect(samples.get('rocket_requests_total{code="5xx"}')).toBe(1);
    expect(samples.get('rocket_app_errors_total')).toBe(1);
    // The scrape itself is in flight while it is rendered.
    expect(samples.get('rocket_requests_in_flight')).toBe(1);
    expect(samples.get('rocket_request_duration_seconds_count')).toBe(2);
    expect(samples.get('rocket_request_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    expect(samples.get('rocket_connections_accepted_total')).toBe(server.stats().connections.accepted);
    // Buckets are cumulative.
    const buckets = [...samples].filter(([name]) => name.startsWith('rocket_request_duration_seconds_bucket')).map(([, n]) => n);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
  });

  test('on an interface of its own, at any path; the app’s interfaces do not serve them', async () => {
    const { server, port } = await serve(textApp('app'), { metricsInterface: ['127.0.0.1', 0] });
    const metrics = server.metricsAddress!;
    expect(metrics.port).not.toBe(port);
    expect(server.addresses).toHaveLength(1);
    const client = await RawClient.connect(metrics.port);
    await client.write('GET /anything HTTP/1.1\r\nHost: t\r\n\r\nPOST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n');
    const scraped = await client.readResponse();
    expect(parsePrometheus(scraped.body.toString()).types.get('rocket_requests_total')).toBe('counter');
    const post = await client.readResponse();
    expect(post.status).toBe(405);
    expect(post.header('allow')).toBe('GET, HEAD');
    client.destroy();
    const app = await RawClient.connect(port);
    await app.write('GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n');
    expect((await app.readResponse()).body.toString()).toBe('app');
    app.destroy();
  });
});
