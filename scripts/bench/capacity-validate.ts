// The capacity bench's validation: N gateways and M email workers at once on this machine, email
// codes requested across the gateways by turns (one load generator per gateway, in this process)
// and delivered to the sink. Predicted codes per second: the CPU cores this machine leaves us,
// over the CPU one email code costs everything that serves it (gateway with its relay, worker,
// Postgres, Redis, and this process as load generator and SMTP server), from the per-unit
// medians. Measured: codes delivered per second, from the first request to the last delivery.
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import autocannon from 'autocannon';
import { median, rounds, stopProcesses } from './bench-processes.ts';
import type { CostsByKind } from './capacity-model.ts';
import { type CapacitySystem, perUnit, sample, startEmailWorker, startGateway } from './capacity-system.ts';

const gateways = Number(process.env.BENCH_VALIDATE_GATEWAYS ?? 2);
const workers = Number(process.env.BENCH_VALIDATE_WORKERS ?? 2);
const codes = Number(process.env.BENCH_VALIDATE_CODES ?? 4000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const cores = availableParallelism();

/** CPU ms of the whole machine per second that is not ours, over `seconds` with our system idle. */
async function othersLoad(system: CapacitySystem, processes: Record<string, ChildProcess[]>, seconds: number) {
  const before = await sample(system, processes);
  await delay(seconds * 1000);
  const costs = perUnit(before, await sample(system, processes), seconds);
  return costs.machineBusy - ours(costs);
}

const ours = (costs: ReturnType<typeof perUnit>) =>
  Object.values(costs.processes).reduce((sum, ms) => sum + ms, 0) + costs.postgresCpu + costs.redisCpu + costs.bench;

export async function validate(system: CapacitySystem, costs: CostsByKind, children: ChildProcess[]): Promise<void> {
  const started = await Promise.all(Array.from({ length: gateways }, () => startGateway(system)));
  const emailWorkers = await Promise.all(Array.from({ length: workers }, () => startEmailWorker(system)));
  children.push(...started.map((g) => g.process), ...emailWorkers);
  const processes = { gateway: started.map((g) => g.process), worker: emailWorkers };
  const request = costs.emailRequest;
  const message = costs.emailMessage;
  const perCodeMs =
    (request.processes.gateway ?? 0) +
    request.postgresCpu +
    request.redisCpu +
    request.bench +
    (message.processes.worker ?? 0) +
    message.postgresCpu +
    message.redisCpu +
    message.bench;
  const othersIdle = await othersLoad(system, processes, 5);
  const whole = (cores * 1000) / perCodeMs;
  const errorOf = (measured: number, predicted: number) => (measured - predicted) / predicted;
  console.log(
    `\nvalidation: ${gateways} gateways, ${workers} email workers, ${codes} email codes per round, ${connections} connections`,
  );
  console.log(
    `  one email code end to end costs ${perCodeMs.toFixed(2)} ms of CPU (gateway ${(request.processes.gateway ?? 0).toFixed(2)}, ` +
      `worker ${(message.processes.worker ?? 0).toFixed(2)}, Postgres ${(request.postgresCpu + message.postgresCpu).toFixed(2)}, ` +
      `Redis ${(request.redisCpu + message.redisCpu).toFixed(2)}, load generator and SMTP sink ${(request.bench + message.bench).toFixed(2)})`,
  );
  console.log(
    `  predicted with the whole machine (${cores} cores): ${whole.toFixed(0)} codes/s; others' load before, our system idle: ${othersIdle.toFixed(0)} ms/s`,
  );
  const results: { measured: number; predicted: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const run = await loadRound(
      system,
      processes,
      started.map((g) => g.url),
      round,
    );
    // The cores others left us during the run: the machine's busy time less ours (kernel time of
    // our own sockets counts as others', so this leans towards predicting too little).
    const predicted = (cores * 1000 - run.othersMsPerSecond) / perCodeMs;
    results.push({ measured: run.measured, predicted });
    console.log(
      `  round ${round}: measured ${run.measured.toFixed(0)} codes/s delivered (${run.delivered}/${run.accepted} accepted in ${run.seconds.toFixed(1)} s; requests alone ${run.requestRate.toFixed(0)}/s), ` +
        `others ${run.othersMsPerSecond.toFixed(0)} ms/s → predicted ${predicted.toFixed(0)} codes/s, error ${(errorOf(run.measured, predicted) * 100).toFixed(0)}% ` +
        `(vs whole machine ${(errorOf(run.measured, whole) * 100).toFixed(0)}%); machine busy ${run.busyPercent.toFixed(0)}%`,
    );
    console.log(
      `    per code during the run: gateways ${(run.during.processes.gateway ?? 0).toFixed(2)} ms, workers ${(run.during.processes.worker ?? 0).toFixed(2)} ms, ` +
        `Postgres ${run.during.postgresCpu.toFixed(2)} ms, Redis ${run.during.redisCpu.toFixed(2)} ms, this process ${run.during.bench.toFixed(2)} ms: ${ours(run.during).toFixed(2)} ms in all`,
    );
  }
  console.log(
    `  median: measured ${median(results.map((r) => r.measured)).toFixed(0)} codes/s, predicted ${median(results.map((r) => r.predicted)).toFixed(0)} codes/s, ` +
      `error ${(median(results.map((r) => errorOf(r.measured, r.predicted))) * 100).toFixed(0)}% (min ${(Math.min(...results.map((r) => errorOf(r.measured, r.predicted))) * 100).toFixed(0)}%, max ${(Math.max(...results.map((r) => errorOf(r.measured, r.predicted))) * 100).toFixed(0)}%)`,
  );
  await stopProcesses([...started.map((g) => g.process), ...emailWorkers]);
  children.splice(
    0,
    children.length,
    ...children.filter((child) => child.exitCode === null && child.signalCode === null),
  );
}

/** One validation round: `codes` email codes across the gateways, until all are delivered. */
async function loadRound(
  system: CapacitySystem,
  processes: Record<string, ChildProcess[]>,
  urls: string[],
  round: number,
) {
  system.sink.messages.length = 0;
  const before = await sample(system, processes);
  const t0 = performance.now();
  let sequence = 0;
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: `${url}/v1/otp/challenges`,
        method: 'POST',
        connections: Math.max(1, Math.round(connections / urls.length)),
        amount: Math.round(codes / urls.length),
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              body: JSON.stringify({ channel: 'email', to: `validate-${round}-${sequence++}@bench.example.com` }),
            }),
          },
        ],
      }),
    ),
  );
  const requestSeconds = (performance.now() - t0) / 1000;
  const accepted = results.reduce((sum, result) => sum + result.requests.total - result.non2xx, 0);
  for (let i = 0; i < 4800 && system.sink.messages.length < accepted; i++) await delay(25);
  const seconds = (performance.now() - t0) / 1000;
  const delivered = system.sink.messages.length;
  const during = perUnit(before, await sample(system, processes), delivered);
  const perSecond = delivered / seconds;
  return {
    measured: perSecond,
    delivered,
    accepted,
    seconds,
    requestRate: accepted / requestSeconds,
    during,
    othersMsPerSecond: (during.machineBusy - ours(during)) * perSecond,
    busyPercent: (during.machineBusy * perSecond) / (cores * 10),
  };
}
