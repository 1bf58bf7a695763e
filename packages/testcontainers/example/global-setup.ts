import { type OtpStackConnection, startOtpStack } from '@otp/testcontainers';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    otpStack: OtpStackConnection;
  }
}

/** Once per test run: the whole OTP system in containers, shared by every test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startOtpStack({
    // Many sign-ins come from one address (this machine): lift the per-IP limit of code requests.
    limits: { codeRequestsPerMinute: 1000 },
  });
  project.provide('otpStack', stack.connection());
  return async () => {
    // The services' logs explain most failures. (`state` is experimental in vitest 5.)
    if (project.vitest.state.getCountOfFailedTests() > 0) process.stdout.write(`${stack.logReport()}\n`);
    await stack.stop();
  };
}
