// Summarises a V8 .cpuprofile (`node --cpu-prof`, e.g. the email worker under
// `BENCH_CPU_PROF=/tmp/prof-email pnpm bench`): sampled time by stage (the first frame up each
// sample's stack that belongs to a known part: SMTP, Postgres, Redis, templates...), then self
// time by package and by function, top N.
//   node --experimental-strip-types scripts/bench/cpu-profile-summary.ts <file.cpuprofile> [N=25]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
/** Microseconds of samples whose leaf is the node. */
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfTime.values()].reduce((sum, us) => sum + us, 0);

const shortUrl = (url: string) =>
  url.replace(/^file:\/\/.*?\/(packages|services|scripts)\//, '$1/').replace(/^.*\/node_modules\//, '');
function packageOf(url: string): string {
  const dependency = /node_modules\/((@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url);
  if (dependency !== null) return dependency[1] as string;
  if (url.startsWith('node:')) return 'node (internal)';
  if (url === '') return '(native / VM)';
  const workspace = /\/(packages|services)\/([^/]+)\//.exec(url);
  return workspace === null ? shortUrl(url) : `@otp/${workspace[2]}`;
}
function stack(id: number): CallFrame[] {
  const frames: CallFrame[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const node = nodes.get(at);
    if (node !== undefined) frames.push(node.callFrame);
  }
  return frames;
}

const STAGES: Array<[string, RegExp]> = [
  ['SMTP: nodemailer (MIME build + SMTP)', /nodemailer/],
  ['Postgres: kysely + pg', /\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+|kysely)\/|packages\/db\//],
  ['Redis: bullmq + ioredis', /\/(bullmq|ioredis|redis-parser|msgpackr)\//],
  ['templates: @otp/messages, intl-messageformat', /packages\/messages\/|intl-messageformat|@formatjs/],
  ['logging: pino', /\/(pino|@pinojs)/],
  ['metrics: prom-client', /prom-client/],
  ['envelope: open the sealed address', /domain\/src\/envelope/],
  ['delivery pipeline: @otp/delivery, email-worker', /packages\/delivery\/|services\/email-worker\/src\/(?!main)/],
];
function stageOf(id: number): string {
  const frames = stack(id);
  for (const frame of frames) {
    for (const [stage, pattern] of STAGES) if (pattern.test(frame.url)) return stage;
  }
  if (frames.some((frame) => /modules\/(esm|cjs)|email-worker\/src\/main/.test(frame.url))) {
    return 'start-up: module loading';
  }
  const leaf = frames[0]?.functionName ?? '';
  return leaf.startsWith('(') ? leaf : 'other (Node internals: timers, streams, microtasks)';
}

function show(title: string, times: Map<string, number>): void {
  console.log(`\n${title}`);
  for (const [key, us] of [...times].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}
const add = (times: Map<string, number>, key: string, us: number) => times.set(key, (times.get(key) ?? 0) + us);

const byStage = new Map<string, number>();
const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of selfTime) {
  const frame = nodes.get(id)?.callFrame;
  if (frame === undefined) continue;
  add(byStage, stageOf(id), us);
  add(byPackage, packageOf(frame.url), us);
  add(byFunction, `${frame.functionName || '(anonymous)'}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}`, us);
}
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
show('by stage (first known frame up the stack)', byStage);
show('self time by package', byPackage);
show('self time by function', byFunction);
