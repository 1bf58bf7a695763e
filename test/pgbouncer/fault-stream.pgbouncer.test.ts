import { startPgBouncer } from '@otp/testkit';
import { describeFaultStream } from '../e2e/fault-stream.scenario.ts';

// The fault stream with its eight services on a PgBouncer in transaction mode (five server
// connections for all their pools); the stalled "database" is the network in front of PgBouncer.
describeFaultStream('a steady stream of requests under every fault in turn, through PgBouncer in transaction mode', {
  databaseFront: (upstreamUrl) => startPgBouncer({ upstreamUrl }),
  env: { DATABASE_POOLER: 'transaction' },
});
