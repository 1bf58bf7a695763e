import { describeSignIn } from './sign-in.scenario.ts';

// Straight to Postgres (DATABASE_POOLER=none); test/pgbouncer runs the same through a PgBouncer.
describeSignIn('sign-in with a code, end to end');
