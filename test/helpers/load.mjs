/**
 * A small, bounded HTTP/1.1 load generator for tests and the soak script: `concurrency` clients,
 * each on a keep-alive connection, each sending its next request as soon as the previous response
 * is complete, reconnecting when the server says `Connection: close` or closes between requests.
 *
 * Every request sent is accounted for exactly once:
 *   ok           answered 2xx
 *   unavailable  answered 503 (the server could not serve it, and said so)
 *   other        answered with another status
 *   failed       the connection closed or broke after the request was sent and before its response
 *                was complete — a request lost
 * Connection attempts that are refused (nothing listens: after a stop) are counted apart, as
 * `refused`; nothing was sent on them. So are requests on a new connection that was reset before a
 * single byte came back, as `unaccepted`: the system completes connections before the server
 * accepts them, and resets those still waiting when the listening socket closes (and, once the
 * test said `serverStopping()`, one closed before a single byte came back: see there). Such a
 * connection never reached the server; a test proves it by comparing the number of connections
 * the server accepted with `connections - refused - unaccepted`.
 *
 * Responses must be framed by Content-Length (every response of the test apps is).
 */

import net from 'node:net';

/**
 * @typedef {object} LoadCounts
 * @property {number} sent
 * @property {number} ok
 * @property {number} unavailable
 * @property {number} other
 * @property {number} failed
 * @property {number} refused
 * @property {number} unaccepted  new connections reset before any response byte (see above)
 * @property {number} connections  connections opened
 * @property {{ fresh: boolean, code: string, path: string }[]} failures  the first few losses, for diagnosis
 */

/**
 * @param {object} options
 * @param {number} options.port
 * @param {string} [options.host]
 * @param {number} [options.concurrency]
 * @param {number} [options.requests]  stop sending after this many requests in all (default: until stop())
 * @param {(response: { status: number, headers: string, body: Buffer }) => void} [options.onResponse]
 * @param {string} [options.path]
 * @returns {{ counts: LoadCounts, stop(): Promise<LoadCounts>, done: Promise<LoadCounts>, answered(n: number): Promise<void>, serverStopping(): void }}
 */
export function startLoad({ port, host = '127.0.0.1', concurrency = 20, requests = Infinity, onResponse, path = '/' }) {
  /** @type {LoadCounts} */
  const counts = { sent: 0, ok: 0, unavailable: 0, other: 0, failed: 0, refused: 0, unaccepted: 0, connections: 0, failures: [] };
  let stopping = false;
  /** The server began to stop (see `serverStopping()`). */
  let serverStopping = false;
  /** Waiters for a number of answered requests. */
  const waiters = [];
  const answered = () => counts.ok + counts.unavailable + counts.other;
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (answered() >= waiters[i].n) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  };
  const more = () => !stopping && counts.sent < requests;

  function client(id) {
    return new Promise((resolveClient) => {
      let attempt = 0;
      const connect = () => {
        if (!more()) return resolveClient();
        counts.connections++;
        const socket = net.connect({ port, host });
        socket.setNoDelay(true);
        let connected = false;
        let outstanding = false;
        let fresh = true;
        let buffered = Buffer.alloc(0);
        let received = 0;
        let ended = false;
        let sentPath = '';
        const send = () => {
          if (!more()) {
            socket.destroy();
            return;
          }
          outstanding = true;
          counts.sent++;
          sentPath = `${path}${path.includes('?') ? '&' : '?'}c=${id}&n=${counts.sent}`;
          socket.write(`GET ${sentPath} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        };
        socket.on('connect', () => {
          connected = true;
          attempt = 0;
          send();
        });
        socket.on('data', (chunk) => {
          received += chunk.length;
          buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
          for (;;) {
            const end = buffered.indexOf('\r\n\r\n');
            if (end === -1) return;
            const head = buffered.toString('latin1', 0, end);
            const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
            if (buffered.length < end + 4 + length) return;
            const body = buffered.subarray(end + 4, end + 4 + length);
            buffered = buffered.subarray(end + 4 + length);
            const status = Number(head.slice(9, 12));
            if (!outstanding) {
              // A response nobody asked for is a server bug; count it as a failure of framing.
              counts.failed++;
              counts.failures.push({ fresh, code: `unsolicited ${status}`, path: sentPath });
              socket.destroy();
              return;
            }
            outstanding = false;
            fresh = false;
            if (status >= 200 && status < 300) counts.ok++;
            else if (status === 503) counts.unavailable++;
            else counts.other++;
            onResponse?.({ status, headers: head, body });
            wake();
            if (/\r\nconnection:\s*close/i.test(head) || ended) {
              socket.destroy();
              return;
            }
            send();
          }
        });
        socket.on('end', () => {
          ended = true;
          socket.destroy();
        });
        let error = '';
        socket.on('error', (e) => {
          error = e.code ?? e.message;
        });
        socket.on('close', () => {
          if (!connected) {
            // Nothing listens (after a stop), or the system refused: try again shortly, unless done.
            counts.refused++;
            attempt++;
            if (!more()) return resolveClient();
            setTimeout(connect, Math.min(50, attempt * 2));
            return;
          }
          if (outstanding && fresh && received === 0 && (error === 'ECONNRESET' || (serverStopping && error === ''))) {
            counts.unaccepted++;
          } else if (outstanding) {
            counts.failed++;
            if (counts.failures.length < 20) counts.failures.push({ fresh, code: error || 'closed', path: sentPath });
          }
          connect();
        });
      };
      connect();
    });
  }

  const done = Promise.all(Array.from({ length: concurrency }, (_, i) => client(i))).then(() => {
    for (const waiter of waiters) waiter.resolve();
    return counts;
  });
  return {
    counts,
    done,
    /** Resolves once `n` requests in all have been answered (or the load has ended). */
    answered(n) {
      if (answered() >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    /**
     * The server is about to stop: from now on a new connection closed before a single byte came
     * back also counts as `unaccepted`. A cluster primary closes the connections it accepted but
     * had not yet handed to a worker when the last worker stops listening (Node's round-robin
     * handle), with a plain close instead of a reset; none of them reached a worker.
     */
    serverStopping() {
      serverStopping = true;
    },
    /** Send no new request; resolves when every request sent has been answered or lost. */
    stop() {
      stopping = true;
      return done;
    },
  };
}
