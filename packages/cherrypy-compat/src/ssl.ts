/**
 * CherryPy's SSL adapters, as descriptions of what to serve: the certificate, the private key and
 * an optional chain. The server builds its TLS interface from them when it starts.
 */

/** The settings an adapter's `context` exposes; read when the server starts. */
export interface SSLContext {
  /**
   * Client certificates: `'CERT_NONE'` (the default) does not ask for one; `'CERT_OPTIONAL'` asks
   * for one and verifies what is presented against `certificate_chain`. (`'CERT_REQUIRED'` is
   * accepted as `'CERT_OPTIONAL'`: the app sees `SSL_CLIENT_VERIFY` and decides.)
   */
  verify_mode: 'CERT_NONE' | 'CERT_OPTIONAL' | 'CERT_REQUIRED';
}

/** The base of every adapter (`wsgiserver.SSLAdapter`, `cheroot.ssl.Adapter`). */
export class SSLAdapter {
  certificate: string;
  private_key: string;
  certificate_chain: string | null;
  readonly context: SSLContext = { verify_mode: 'CERT_NONE' };

  constructor(certificate: string, private_key: string, certificate_chain: string | null = null) {
    if (typeof certificate !== 'string' || certificate === '') throw new TypeError('an SSL adapter needs a certificate file');
    if (typeof private_key !== 'string' || private_key === '') throw new TypeError('an SSL adapter needs a private key file');
    this.certificate = certificate;
    this.private_key = private_key;
    this.certificate_chain = certificate_chain ?? null;
  }
}

/** `BuiltinSSLAdapter(certificate, private_key, certificate_chain?)`: Node's own TLS. */
export class BuiltinSSLAdapter extends SSLAdapter {}

/** `pyOpenSSLAdapter`: the same as the builtin adapter here (there is one TLS library). */
export class pyOpenSSLAdapter extends SSLAdapter {}

const ADAPTERS: Record<string, typeof SSLAdapter> = { builtin: BuiltinSSLAdapter, pyopenssl: pyOpenSSLAdapter };

/** `get_ssl_adapter_class('builtin' | 'pyopenssl')`, as pyas2 calls it. */
export function get_ssl_adapter_class(name = 'builtin'): typeof SSLAdapter {
  const adapter = ADAPTERS[String(name).toLowerCase()];
  if (adapter === undefined) throw new TypeError(`unknown SSL adapter ${JSON.stringify(name)}; known: ${Object.keys(ADAPTERS).join(', ')}`);
  return adapter;
}
