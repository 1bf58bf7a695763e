import { startPgBouncer } from '@otp/testkit';
import { describeSignIn } from '../e2e/sign-in.scenario.ts';

// The e2e sign-in with every service on a PgBouncer in transaction mode (five server connections
// for all their pools), as DATABASE_POOLER=transaction is meant for.
describeSignIn('sign-in with a code, end to end, through PgBouncer in transaction mode', {
  databaseFront: (upstreamUrl) => startPgBouncer({ upstreamUrl }),
  everyServiceEnv: { DATABASE_POOLER: 'transaction' },
});
