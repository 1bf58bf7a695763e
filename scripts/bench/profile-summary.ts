// Summarises a V8 CPU profile (`node --cpu-prof`, or `pnpm bench` with BENCH_CPU_PROF=<dir>):
// time by stage (socket writes and GC by their leaf, the rest by the first known frame up the
// stack: Postgres, Redis, HTTP, crypto, templates...), self time by package or file, the heaviest
// functions, and our own functions with what they call. Idle time is left out. Not a test.
// Given an allocation profile (`.heapprofile`, `pnpm bench` with BENCH_ALLOC_PROF=<dir>), the same
// tables in bytes allocated instead of milliseconds.
//   node --experimental-strip-types scripts/bench/profile-summary.ts <file.cpuprofile|.heapprofile> [top=25]
//   CALLERS_OF=writev,… also lists who calls those functions.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
/** An allocation profile's tree: each node's bytes allocated in it (sampled), its callees nested. */
interface HeapNode {
  id: number;
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapNode[];
}

const [file, topArgument] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile|file.heapprofile> [top]');
const top = Number(topArgument ?? 25);
const read = JSON.parse(readFileSync(file, 'utf8')) as Profile | { head: HeapNode };
// Each node's own weight: milliseconds of samples (CPU), or bytes allocated (heap).
const selfMs = new Map<number, number>();
const allocations = 'head' in read;
const nodes: ProfileNode[] = [];
if ('head' in read) {
  const flatten = (node: HeapNode) => {
    nodes.push({ id: node.id, callFrame: node.callFrame, children: node.children.map((child) => child.id) });
    if (node.selfSize > 0) selfMs.set(node.id, node.selfSize);
    node.children.forEach(flatten);
  };
  flatten(read.head);
} else {
  nodes.push(...read.nodes);
  read.samples.forEach((id, index) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (read.timeDeltas[index] ?? 0) / 1000);
  });
}
const byId = new Map(nodes.map((node) => [node.id, node]));
/** A weight as printed: milliseconds, or megabytes allocated. */
const amount = (weight: number) =>
  allocations ? `${(weight / 1e6).toFixed(1).padStart(7)} MB` : `${weight.toFixed(0).padStart(7)} ms`;
// Idle time is the process waiting, not working: left out of every share.
for (const [id] of selfMs) if (byId.get(id)?.callFrame.functionName === '(idle)') selfMs.delete(id);
const total = [...selfMs.values()].reduce((sum, ms) => sum + ms, 0);
const parentOf = new Map<number, number>();
for (const node of nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

/** The package a file belongs to (`fastify`, `@otp/gateway`), or Node's own, or the engine's. */
function owner(url: string): string {
  if (url === '') return '(engine: gc, idle, program)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return (parts[0] as string).startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
  }
  const ours = /\/(services|packages)\/([^/]+)\/src\/(.*)$/.exec(url);
  return ours === null ? url : `${ours[1]}/${ours[2]}/${ours[3]}`;
}

/** Leaves that are the process waiting on the kernel or the engine rather than running our stack. */
const LEAF_STAGES: Record<string, string> = {
  writev: 'socket writes (system calls)',
  writeBuffer: 'socket writes (system calls)',
  writeUtf8String: 'socket writes (system calls)',
  '(garbage collector)': 'garbage collector',
};
const STAGES: Array<[string, RegExp]> = [
  ['SMTP: nodemailer', /\/nodemailer\//],
  [
    'Postgres client: kysely, pg, packages/db',
    /\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+|kysely)\/|packages\/db\//,
  ],
  ['Redis client: bullmq, ioredis', /\/(bullmq|ioredis|redis-parser|msgpackr)\/|@fastify\/rate-limit/],
  ['tokens: jose', /\/jose\//],
  ['crypto: HMAC, AES-GCM, random', /node:internal\/crypto|domain\/src\/(envelope|otp-code)/],
  ['templates: @otp/messages, intl-messageformat', /packages\/messages\/|intl-messageformat|@formatjs/],
  ['logging: pino', /\/(pino|@pinojs|sonic-boom)/],
  ['metrics: prom-client', /prom-client/],
  [
    'HTTP: fastify, its plugins, validation, serialisation',
    /\/(fastify|@fastify\/[a-z-]+|helmet|ajv|fast-json-stringify|find-my-way|avvio|light-my-request)\/|node:_http/,
  ],
];

function stageOf(id: number): string {
  const leaf = (byId.get(id) as ProfileNode).callFrame.functionName;
  const byLeaf = LEAF_STAGES[leaf];
  if (byLeaf !== undefined) return byLeaf;
  const urls: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    urls.push((byId.get(at) as ProfileNode).callFrame.url);
  }
  for (const url of urls) {
    for (const [stage, pattern] of STAGES) if (pattern.test(url)) return stage;
    if (/\/main\.ts$/.test(url)) break;
    if (/\/(services|packages)\//.test(url) && !url.includes('/node_modules/')) return 'our code (services, packages)';
  }
  if (urls.some((url) => /modules\/(esm|cjs)|amaro|\/main\.ts$/.test(url))) return 'start-up: module loading';
  return leaf.startsWith('(') ? leaf : 'other (Node internals: timers, streams, microtasks)';
}

function table(title: string, key: (node: ProfileNode) => string): void {
  const sums = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id) as ProfileNode;
    sums.set(key(node), (sums.get(key(node)) ?? 0) + ms);
  }
  console.log(`\n${title}`);
  for (const [name, ms] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${amount(ms)}  ${name}`);
  }
}

/** Time spent in each of our own functions and everything it called (a recursion counted once). */
function inclusive(): void {
  const sums = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { functionName, url, lineNumber } = (byId.get(at) as ProfileNode).callFrame;
      if (!/\/(services|packages)\//.test(url) || url.includes('/node_modules/')) continue;
      const name = `${functionName || '(anonymous)'} ${owner(url)}:${lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      sums.set(name, (sums.get(name) ?? 0) + ms);
    }
  }
  console.log('\nour functions, with what they call');
  for (const [name, ms] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${amount(ms)}  ${name}`);
  }
}

/** Who calls `name` (a function's name): its callers' chains, three deep, by time. */
function callers(name: string): void {
  const sums = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    if ((byId.get(id) as ProfileNode).callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let at = parentOf.get(id); at !== undefined && chain.length < 4; at = parentOf.get(at)) {
      const frame = (byId.get(at) as ProfileNode).callFrame;
      chain.push(`${frame.functionName || '(anonymous)'} ${owner(frame.url)}:${frame.lineNumber + 1}`);
    }
    const key = chain.join(' < ');
    sums.set(key, (sums.get(key) ?? 0) + ms);
  }
  console.log(`\ncallers of ${name}`);
  for (const [chain, ms] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`  ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${chain}`);
  }
}

console.log(
  allocations
    ? `${file}: ${(total / 1e6).toFixed(1)} MB allocated`
    : `${file}: ${total.toFixed(0)} ms working (idle left out)`,
);
table('by stage', (node) => stageOf(node.id));
table(allocations ? 'allocated by package or file' : 'self time by package or file', (node) =>
  owner(node.callFrame.url),
);
table(allocations ? 'allocated by function' : 'self time by function', (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${owner(url)}:${lineNumber + 1}`;
});
inclusive();
for (const name of (process.env.CALLERS_OF ?? '').split(',').filter(Boolean)) callers(name);
