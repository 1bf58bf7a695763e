// Loaded into a bench server with `--import <this file's URL>?out=<path prefix>` (pnpm bench with
// BENCH_ALLOC_PROF=<dir>): V8's sampling heap profiler records what the process allocates, the
// objects the garbage collector has since freed included, so the profile says what a request
// allocates, not only what it keeps. On SIGUSR2 (sent once the server is ready) it writes what
// start-up allocated to `<prefix>-startup.heapprofile` and starts again; at exit it writes the
// rest to `<prefix>-load.heapprofile`. Read them with profile-summary.ts, or in Chrome's
// DevTools (Memory). Not a test.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const prefix = new URL(import.meta.url).searchParams.get('out');
if (prefix === null) throw new Error('allocation-profile.ts: import it with ?out=<path prefix>');

const session = new Session();
session.connect();
// A session in the process's own thread answers before post returns.
function post(method: string, params?: object): unknown {
  let answer: { error: Error | null; result: unknown } | undefined;
  session.post(method, params, (error, result) => {
    answer = { error, result };
  });
  if (answer === undefined) throw new Error(`allocation-profile.ts: ${method} did not answer at once`);
  if (answer.error !== null) throw answer.error;
  return answer.result;
}

const start = () =>
  post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
const write = (part: string) => {
  const { profile } = post('HeapProfiler.stopSampling') as { profile: unknown };
  writeFileSync(`${prefix}-${part}.heapprofile`, JSON.stringify(profile));
};

post('HeapProfiler.enable');
start();
process.once('SIGUSR2', () => {
  write('startup');
  start();
});
process.once('exit', () => write('load'));
