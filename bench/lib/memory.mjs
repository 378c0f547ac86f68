// Scenario 7: server RSS per idle keep-alive connection.
// RSS after opening N connections (each served one GET /hello, then left idle) minus RSS before,
// divided by N; both read from /proc/<pid>/status after a full GC in the server (GET /gc).
import { fileURLToPath } from 'node:url';
import { getJson, request } from './http-check.mjs';
import { onCore, rssOf, sleep, startProcess, startServer } from './proc.mjs';

const CLIENT = fileURLToPath(new URL('../clients/idle-connections.mjs', import.meta.url));

/** GC in the server, let it settle, read its RSS. */
async function settledRss(server) {
  const usage = await getJson(server.port, '/gc');
  await sleep(500);
  await getJson(server.port, '/gc');
  await sleep(300);
  return { rss: await rssOf(server.pid), heapUsed: usage.heapUsed };
}

/** Measure one server; `count` connections. Returns bytes per connection and the checks made. */
export async function measureMemory(server, count) {
  const proc = await startServer(server.file, { core: 0, nodeArgs: ['--expose-gc'] });
  let client = null;
  try {
    // Warm the server first so code loaded on the first requests is not counted per connection.
    for (let i = 0; i < 200; i++) await request(proc.port, 'GET', '/hello');
    const before = await settledRss(proc);

    const [cmd, args] = onCore(1, process.execPath, [CLIENT, String(proc.port), String(count), '250']);
    client = startProcess(cmd, args);
    const opened = await client.waitForLine(/^opened (\d+) (\d+)$/, 180_000);
    await sleep(500);
    const after = await settledRss(proc);

    // Neither side may have closed anything: the server's count includes the /count connection.
    const serverOpen = (await getJson(proc.port, '/count')).open;
    const checked = client.waitForLine(/^open (\d+)$/, 10_000);
    client.send('check');
    const clientOpen = Number((await checked)[1]);
    const problems = [];
    if (clientOpen !== count) problems.push(`client sees ${clientOpen} of ${count} connections open`);
    if (serverOpen < count) problems.push(`server reports ${serverOpen} open connections, expected ≥ ${count}`);
    return {
      connections: count,
      openMs: Number(opened[2]),
      rssBefore: before.rss,
      rssAfter: after.rss,
      bytesPerConnection: (after.rss - before.rss) / count,
      heapPerConnection: (after.heapUsed - before.heapUsed) / count,
      serverOpen,
      clientOpen,
      problems,
      serverStderr: proc.stderrLines,
    };
  } finally {
    if (client !== null) {
      client.send('close');
      await client.stop(5000);
    }
    await proc.stop();
  }
}
