// What the gateway uses of the delivery package, without the workers' code (their processors,
// providers, hook sender and process): the gateway loads only these modules, which keeps its
// memory down (`pnpm bench` reports its peak RSS against a bare server's).
export * from './kill-switch.watch.ts';
export * from './stalled.recorder.ts';
