// The requests the benchmark sends, shared by the wrk scenarios and the parser micro-benchmark.

/** Path with a query string, as a browser would request a page. */
export const BROWSER_PATH = '/hello?id=12345&lang=en';

/** Browser-like header fields (Chrome on Linux), added with `wrk -H`. wrk adds Host itself. */
export const BROWSER_HEADERS = [
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Cookie', 'session=3f2a9c1e7b5d4e8f; theme=dark'],
  ['Referer', 'http://127.0.0.1:8080/'],
  ['Sec-Fetch-Dest', 'document'],
  ['Sec-Fetch-Mode', 'navigate'],
  ['Sec-Fetch-Site', 'same-origin'],
  ['Cache-Control', 'max-age=0'],
];

/** The raw bytes of a GET request as wrk formats it (request-line, Host first, then the fields). */
export function rawRequest(path, headers = [], host = '127.0.0.1:8080') {
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** wrk's default request: `GET /hello` with Host only. */
export const MINIMAL_REQUEST = rawRequest('/hello');
/** The browser request of scenarios 2 and 3. */
export const BROWSER_REQUEST = rawRequest(BROWSER_PATH, BROWSER_HEADERS);
