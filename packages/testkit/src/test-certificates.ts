import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { promisify } from 'node:util';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    trustedCertificates: TestCertificates;
  }
}

const run = promisify(execFile);

/** Paths of a throwaway CA and of a server certificate it signed. */
export interface TestCertificates {
  /** The CA's certificate: what a client trusts (NODE_EXTRA_CA_CERTS) and a server checks peers with. */
  ca: string;
  /**
   * The server's certificate (for IP:127.0.0.1 and DNS:localhost, or the names given to
   * issueTestCertificate), usable as a client certificate too.
   */
  cert: string;
  key: string;
  dir: string;
}

/**
 * Makes a CA and a server certificate with `openssl` in a new temp dir, valid for a day: nothing
 * secret is committed, and each run has its own. Redis servers use the one certificate for their
 * listeners and, as clients, for replication and the cluster bus, hence clientAuth as well.
 */
export async function createTestCertificates(name = 'otp-test'): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-certs-`));
  const path = (file: string) => join(dir, file);
  try {
    await run('openssl', [
      ...['req', '-x509', ...ecKey, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '1'],
      ...['-subj', `/CN=${name} CA`, '-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ]);
    await signServerCertificate(path('ca.crt'), path('ca.key'), dir, 'IP:127.0.0.1,DNS:localhost');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { ca: path('ca.crt'), cert: path('server.crt'), key: path('server.key'), dir };
}

/**
 * Another server certificate from the CA of `certificates`, for other names (`altNames` in
 * openssl's subjectAltName form, such as `DNS:localhost`), in a new temp dir: a server that
 * clients trusting that CA reach by those names only.
 */
export async function issueTestCertificate(
  certificates: TestCertificates,
  altNames: string,
): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'otp-issued-certs-'));
  try {
    await signServerCertificate(certificates.ca, join(certificates.dir, 'ca.key'), dir, altNames);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { ca: certificates.ca, cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), dir };
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** server.key and server.crt in `dir`, for `altNames`, signed by the CA's certificate and key. */
async function signServerCertificate(caCert: string, caKey: string, dir: string, altNames: string): Promise<void> {
  const path = (file: string) => join(dir, file);
  await run('openssl', [
    'req',
    ...ecKey,
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(
    path('server.ext'),
    [
      `subjectAltName=${altNames}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      '',
    ].join('\n'),
  );
  await run('openssl', [
    ...['x509', '-req', '-in', path('server.csr'), '-CA', caCert, '-CAkey', caKey],
    ...['-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-extfile', path('server.ext')],
    ...['-out', path('server.crt')],
  ]);
}

/**
 * A client's TLS options that trust these certificates' CA (ioredis `tls`, or `node:tls`'s `ca`),
 * read once; none without certificates, for a plaintext client.
 */
export function trustingTls(certificates: TestCertificates | undefined): { tls?: { ca: Buffer } } {
  return certificates === undefined ? {} : { tls: { ca: readFileSync(certificates.ca) } };
}

/** The redis-server arguments of a TLS-only listener with these certificates (clients need none). */
export function redisTlsArgs(certificates: TestCertificates, port: number): string[] {
  return [
    ...['--port', '0', '--tls-port', String(port)],
    ...['--tls-cert-file', certificates.cert, '--tls-key-file', certificates.key],
    ...['--tls-ca-cert-file', certificates.ca, '--tls-auth-clients', 'no'],
  ];
}

/**
 * The run's CA that the test workers trust (NODE_EXTRA_CA_CERTS) and a server certificate it
 * signed: made by trusted-test-ca.global-setup.ts, which the suite's vitest config must name.
 */
export function trustedTestCertificates(): TestCertificates {
  const certificates = inject('trustedCertificates');
  if (certificates === undefined) {
    throw new Error('no trusted test CA: add packages/testkit/src/trusted-test-ca.global-setup.ts to globalSetup');
  }
  return certificates;
}

/**
 * The code of the error a TLS handshake with `host:port` fails with, with Node's default checks
 * (the CAs the process trusts, the host's name or address): why a client with `tls: {}` refuses
 * that server (`SELF_SIGNED_CERT_IN_CHAIN`, `ERR_TLS_CERT_ALTNAME_INVALID`...).
 */
export async function tlsHandshakeError(host: string, port: number): Promise<string | undefined> {
  const handshake = connectTls({ host, port });
  try {
    const [error] = (await once(handshake, 'error')) as [Error & { code?: string }];
    return error.code;
  } finally {
    handshake.destroy();
  }
}
