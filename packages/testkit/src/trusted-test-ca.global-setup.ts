import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createTestCertificates } from './test-certificates.ts';

/**
 * Once per run, before the test workers start: a throwaway CA that the workers trust through
 * NODE_EXTRA_CA_CERTS, as an operator trusts a private CA (Node reads it only at process start,
 * and vitest builds the workers' environment from this process's after global setup). A bundle
 * file keeps any CAs the variable named already. Test files get the CA and a server certificate it
 * signed with `trustedTestCertificates()`; processes they spawn must be given
 * NODE_EXTRA_CA_CERTS (the CA's path) themselves.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const certificates = await createTestCertificates('otp-trusted');
  const earlier = process.env.NODE_EXTRA_CA_CERTS;
  const bundle = join(certificates.dir, 'trusted-bundle.pem');
  writeFileSync(
    bundle,
    [
      earlier === undefined || earlier === '' ? '' : readFileSync(earlier, 'utf8'),
      readFileSync(certificates.ca, 'utf8'),
    ]
      .filter((part) => part !== '')
      .join('\n'),
  );
  process.env.NODE_EXTRA_CA_CERTS = bundle;
  project.provide('trustedCertificates', certificates);
  return () => rmSync(certificates.dir, { recursive: true, force: true });
}
