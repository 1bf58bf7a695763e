import { type Database, type KillSwitch, type Kysely, listKillSwitches } from '@otp/db';
import type { Logger } from '@otp/runtime';

// The kill switches as every replica of the gateway and of the workers sees them: a copy of the
// `kill_switches` table read every few seconds. A table of a handful of rows read by primary key
// order costs nothing, and polling needs no extra channel (LISTEN/NOTIFY would need a dedicated
// connection per process and still a poll to recover from missed notifications). A switch thus
// takes effect everywhere within one interval.

export interface KillSwitchWatchOptions {
  db: Kysely<Database>;
  /** Where switch changes and unreadable tables are logged. */
  log: Logger;
  intervalMs: number;
}

export interface KillSwitchWatch {
  /** Settles once the first read did (or failed): until then no switch is known to be off. */
  readonly firstRead: Promise<void>;
  /** The targets switched off, as last read. */
  off(): ReadonlySet<string>;
  /** Every switch as last read, off or on again. */
  switches(): readonly KillSwitch[];
  /** Reads the table now (after any read in progress); tests call it instead of waiting for the timer. */
  refresh(): Promise<void>;
  /** Stops the timer and waits for a read in progress. */
  stop(): Promise<void>;
}

/**
 * Starts reading the switches at once and every `intervalMs` after. When Postgres cannot be read
 * the last known state stays: forgetting a switch that is off would send what the operator
 * stopped, and refusing everything would turn a database blip into an outage. That is logged
 * once per outage, not on every read.
 */
export function startKillSwitchWatch(options: KillSwitchWatchOptions): KillSwitchWatch {
  const { db, log, intervalMs } = options;
  let rows: readonly KillSwitch[] = [];
  let off: ReadonlySet<string> = new Set();
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function logChanges(next: readonly KillSwitch[]): void {
    const before = new Map(rows.map((row) => [row.target, row.off]));
    for (const row of next) {
      // A target not seen before was on: on the first read only what is off is news.
      if ((before.get(row.target) ?? false) === row.off) continue;
      // The operator's name is free text they chose to record; no address or secret is in a row.
      log.warn(
        { target: row.target, off: row.off, changedBy: row.changed_by, changedAt: row.changed_at },
        row.off ? 'kill switch off: sends stopped' : 'kill switch on again: sends resume',
      );
    }
  }

  async function read(): Promise<void> {
    try {
      const next = await listKillSwitches(db);
      logChanges(next);
      rows = next;
      off = new Set(next.filter((row) => row.off).map((row) => row.target));
      if (failing) log.info('kill switches readable again');
      failing = false;
    } catch (error) {
      if (!failing) {
        log.error(
          { err: { message: (error as Error).message }, off: [...off] },
          'kill switches unreadable: keeping the last known state',
        );
      }
      failing = true;
    }
  }

  // Reads run one after another, each starting after the call that asked for it: a read already
  // running may have started before the change its caller just made.
  let reads: Promise<void> = Promise.resolve();
  function refresh(): Promise<void> {
    reads = reads.then(read);
    return reads;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void refresh().then(schedule), intervalMs);
    // A process is kept alive by its server or worker, never by this timer.
    timer.unref();
  }

  const firstRead = refresh();
  void firstRead.then(schedule);
  return {
    firstRead,
    off: () => off,
    switches: () => rows,
    refresh,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await reads;
    },
  };
}
