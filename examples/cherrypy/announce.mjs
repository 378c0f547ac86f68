// What CherryPy's ServerAdapter does around a server started elsewhere: wait until `ready`, then
// say where it listens. The examples print this line; the startup code itself is the snippet's.
export async function announce(server) {
  while (!server.ready) await new Promise((resolve) => setTimeout(resolve, 20));
  const [host, port] = server.bind_addr;
  const scheme = server.ssl_adapter || (server.ssl_certificate && server.ssl_private_key) ? 'https' : 'http';
  console.log(`listening on ${scheme}://${host || '0.0.0.0'}:${port}/`);
}

/** A small WSGI app: says which app answered, and where. */
export function hello(name) {
  return (environ, start_response) => {
    const body = `${name}: SCRIPT_NAME=${JSON.stringify(environ.SCRIPT_NAME)} PATH_INFO=${JSON.stringify(environ.PATH_INFO)} SERVER_NAME=${environ.SERVER_NAME} scheme=${environ['wsgi.url_scheme']}\n`;
    start_response('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(Buffer.byteLength(body))]]);
    return [body];
  };
}

export const PORT = Number(process.env.PORT ?? 8070);
