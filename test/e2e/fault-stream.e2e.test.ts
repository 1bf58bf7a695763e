import { describeFaultStream } from './fault-stream.scenario.ts';

// Straight to Postgres (DATABASE_POOLER=none); test/pgbouncer runs the same through a PgBouncer.
describeFaultStream('a steady stream of requests under every fault in turn');
