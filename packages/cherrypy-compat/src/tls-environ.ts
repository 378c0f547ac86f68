/**
 * The TLS entries cheroot's builtin adapter adds to the environ: protocol, cipher, versions, and
 * the client certificate when one was verified. Pure: facts about the connection in, entries out.
 */

/** What the environ's `rocket.connection.tls` tells about a TLS connection. */
export interface TlsFacts {
  protocol: string | null;
  cipher: string | null;
  authorized: boolean;
  peerCertificatePem: string | null;
  getPeerCertificate(detailed?: boolean): object;
}

/** cheroot's builtin adapter environ: protocol, cipher, versions, the client certificate. */
export function tlsEnviron(tls: TlsFacts, version: string): Record<string, string> {
  const env: Record<string, string> = {
    SSL_PROTOCOL: tls.protocol ?? '',
    SSL_CIPHER: tls.cipher ?? '',
    SSL_VERSION_INTERFACE: `${version} Node.js/${process.version}`,
    SSL_VERSION_LIBRARY: `OpenSSL ${process.versions.openssl}`,
    SSL_CLIENT_VERIFY: tls.authorized && tls.peerCertificatePem !== null ? 'SUCCESS' : 'NONE',
  };
  if (env.SSL_CLIENT_VERIFY === 'SUCCESS') {
    const cert = tls.getPeerCertificate() as { subject?: Record<string, string>; issuer?: Record<string, string>; serialNumber?: string };
    env.SSL_CLIENT_CERT = tls.peerCertificatePem!;
    env.SSL_CLIENT_M_VERSION = '3';
    env.SSL_CLIENT_M_SERIAL = cert.serialNumber ?? '';
    env.SSL_CLIENT_S_DN = distinguishedName(cert.subject);
    env.SSL_CLIENT_I_DN = distinguishedName(cert.issuer);
  }
  return env;
}

function distinguishedName(name: Record<string, string> | undefined): string {
  if (name === undefined) return '';
  return Object.entries(name)
    .map(([key, value]) => `/${key}=${value}`)
    .join('');
}
