import { createDb, type Database, type Kysely, setKillSwitch } from '@otp/db';
import { useProxiedDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KillSwitchWatch, startKillSwitchWatch } from './kill-switch.watch.ts';
import { captureLogs } from './testing/index.ts';

// Every replica's copy of the kill switches: when Postgres cannot be read it keeps enforcing what
// it last saw, says so once, and catches up when Postgres is back.
const { database, proxy, url } = useProxiedDatabase();
const logs = captureLogs('kill-switch-test', 'info');
let proxied: Kysely<Database>;
let watch: KillSwitchWatch;

beforeAll(() => {
  proxied = createDb({ url: url(), poolSize: 1, connectionTimeoutMs: 500, statementTimeoutMs: 500 });
});

afterAll(async () => {
  await watch?.stop();
  await proxied?.destroy();
});

const said = (msg: string) => logs.records.filter((record) => record.msg === msg);

describe('the kill switch watch', () => {
  it('starts with what is off, keeps it while Postgres is away (logged once), then catches up', async () => {
    await setKillSwitch(database.db, 'sms', true, 'ops-alice');
    await setKillSwitch(database.db, 'country:FR', false, 'ops-bob');
    // A timer that never fires: the test reads when it wants to.
    watch = startKillSwitchWatch({ db: proxied, log: logs.log, intervalMs: 3_600_000 });
    await watch.firstRead;
    expect([...watch.off()]).toEqual(['sms']);
    expect(watch.switches().map((row) => [row.target, row.off])).toEqual([
      ['country:FR', false],
      ['sms', true],
    ]);
    // On start only what is off is news.
    expect(said('kill switch off: sends stopped')).toEqual([
      expect.objectContaining({ target: 'sms', off: true, changedBy: 'ops-alice' }),
    ]);
    expect(said('kill switch on again: sends resume')).toEqual([]);

    proxy().cut();
    await setKillSwitch(database.db, 'sms', false, 'ops-alice');
    await watch.refresh();
    await watch.refresh();
    expect([...watch.off()]).toEqual(['sms']);
    expect(said('kill switches unreadable: keeping the last known state')).toEqual([
      expect.objectContaining({ level: 50, off: ['sms'] }),
    ]);

    proxy().restore();
    await watch.refresh();
    expect([...watch.off()]).toEqual([]);
    expect(said('kill switches readable again')).toHaveLength(1);
    expect(said('kill switch on again: sends resume')).toEqual([
      expect.objectContaining({ target: 'sms', off: false }),
    ]);
  });
});
