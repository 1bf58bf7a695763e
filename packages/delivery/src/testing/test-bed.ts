import { type Channel, type KeyRing, parseKeyRing } from '@otp/domain';
import {
  createTestDatabase,
  type TestDatabase,
  testKeyRing,
  testRedisUrl,
  uniqueQueuePrefix,
  useFixture,
} from '@otp/testkit';
import type { DeliveryWorker, DeliveryWorkerDeps } from '../delivery.worker.ts';
import { createDeliveryFixture, type DeliveryFixture } from './delivery.fixture.ts';
import { createRecordingSender, type RecordingSender } from './recording.sender.ts';
import { type StartWorker, startTestDeliveryWorker } from './test-worker.ts';

export interface PrepareTestBedOptions {
  /** The queue the fixture fills and the workers take from (default `email`). */
  channel?: Channel;
  /** The envelope key ring as `ENVELOPE_KEYS` holds it, for a worker started as a process (default: a fresh one). */
  keys?: string;
}

/** A worker's sender and the settings the test is about; the bed fills in the rest. */
export type TestBedWorkerOptions = Pick<DeliveryWorkerDeps, 'sender'> & Partial<DeliveryWorkerDeps>;

export interface PreparedTestBed {
  /** This file's own database, migrated. */
  database: TestDatabase;
  redisUrl: string;
  /** This file's own queue prefix. */
  prefix: string;
  keyRing: KeyRing;
  /** Seeds challenges and enqueues their jobs on the bed's queue. */
  fixture: DeliveryFixture;
  /**
   * Starts a worker on the bed's database and queue with `startTestDeliveryWorker`'s settings
   * under `options`, through `start` (a service's `startWorker`) when given; `close()` closes
   * it (closing a worker twice is harmless).
   */
  startWorker(options: TestBedWorkerOptions, start?: StartWorker): Promise<DeliveryWorker>;
  /** Closes the workers, then the fixture, then drops the database. */
  close(): Promise<void>;
}

/**
 * What every delivery pipeline test stands on: a database and a queue prefix of the file's own
 * and the fixture that feeds the queue. Workers are left to the test (`startWorker`), for tests
 * about several workers or workers that die; most tests want `startDeliveryTestBed`.
 */
export async function prepareDeliveryTestBed(options: PrepareTestBedOptions = {}): Promise<PreparedTestBed> {
  const channel = options.channel ?? 'email';
  const keyRing = parseKeyRing(options.keys ?? testKeyRing());
  const redisUrl = testRedisUrl();
  const prefix = uniqueQueuePrefix();
  const database = await createTestDatabase();
  let fixture: DeliveryFixture;
  try {
    fixture = await createDeliveryFixture({ db: database.db, redisUrl, prefix, keyRing, channel });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const workers: DeliveryWorker[] = [];

  return {
    database,
    redisUrl,
    prefix,
    keyRing,
    fixture,
    async startWorker(workerOptions, start) {
      const worker = await startTestDeliveryWorker(
        { channel, db: database.db, redisUrl, prefix, keyRing, ...workerOptions },
        start,
      );
      workers.push(worker);
      return worker;
    },
    async close() {
      // Workers first: they still write to the database and take from the queue while they finish.
      await Promise.all(workers.map((worker) => worker.close()));
      await fixture.close();
      await database.drop();
    },
  };
}

export interface DeliveryTestBedOptions extends PrepareTestBedOptions {
  /** The provider name the recording sender reports (default `fake`). */
  provider?: string;
  /** Settings of the worker over `startTestDeliveryWorker`'s (a log to read, a limiter...). */
  worker?: Partial<Omit<DeliveryWorkerDeps, 'sender'>>;
}

export interface DeliveryTestBed extends PreparedTestBed {
  /** The worker's sender: what it sent, and failures to play. */
  sender: RecordingSender;
  worker: DeliveryWorker;
}

/** A prepared test bed with one worker running, its sender a recording fake. */
export async function startDeliveryTestBed(options: DeliveryTestBedOptions = {}): Promise<DeliveryTestBed> {
  const bed = await prepareDeliveryTestBed(options);
  const sender = createRecordingSender(options.provider);
  try {
    const worker = await bed.startWorker({ ...options.worker, sender });
    return { ...bed, sender, worker };
  } catch (error) {
    await bed.close();
    throw error;
  }
}

/**
 * The test bed of a test file (or a `describe`): started in `beforeAll`, closed in `afterAll`.
 * Its fields are read when used, so tests keep `bed.fixture`, `bed.sender`... as they would of a
 * started bed; reading one while the file is being collected throws and says why.
 */
export function useDeliveryTestBed(options: DeliveryTestBedOptions = {}): DeliveryTestBed {
  const current = useFixture(
    'useDeliveryTestBed()',
    () => startDeliveryTestBed(options),
    (bed) => bed.close(),
  );
  return {
    get database() {
      return current().database;
    },
    get redisUrl() {
      return current().redisUrl;
    },
    get prefix() {
      return current().prefix;
    },
    get keyRing() {
      return current().keyRing;
    },
    get fixture() {
      return current().fixture;
    },
    get sender() {
      return current().sender;
    },
    get worker() {
      return current().worker;
    },
    startWorker: (workerOptions, start) => current().startWorker(workerOptions, start),
    close: () => current().close(),
  };
}
