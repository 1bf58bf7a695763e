import { randomBytes } from 'node:crypto';
import type { DashboardAuth } from '../config.ts';

/** Sign-in settings for dashboards under test: fresh secrets per run. */
export const TEST_AUTH = {
  basic: { user: 'operator', password: `pw-${randomBytes(12).toString('hex')}` },
  token: `tok-${randomBytes(24).toString('hex')}`,
} satisfies DashboardAuth;

export function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Request headers of a signed-in operator. */
export const OPERATOR = { authorization: basicHeader(TEST_AUTH.basic.user, TEST_AUTH.basic.password) };
