// The operator's commands against a running deployment (docs/operating.md, "Operator commands"):
//   pnpm --filter @otp/gateway ops <command> [arguments]
// In an image without pnpm: node --experimental-strip-types services/gateway/src/ops/ops.cli.ts <command> ...
// Each command is a module of this folder with a `run(args)` that resolves with the exit code;
// one is loaded only when named, so a command's dependencies never slow the others down.

interface OpsCommand {
  USAGE: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<OpsCommand>> = {
  'admin-key': async () => (await import('./key.cli.ts')).adminKeyCommand,
  'api-key': async () => (await import('./key.cli.ts')).serverKeyCommand,
  'kill-switch': () => import('./kill-switch.cli.ts'),
  'webhook-endpoint': () => import('./webhook-endpoint.cli.ts'),
};

const [name = '', ...args] = process.argv.slice(2);
const load = COMMANDS[name];
if (load === undefined) {
  const usages = await Promise.all(Object.values(COMMANDS).map(async (command) => (await command()).USAGE));
  process.stderr.write(`${name === '' ? 'no command given' : `unknown command: ${name}`}\n${usages.join('')}`);
  process.exit(64); // EX_USAGE
}
process.exitCode = await (await load()).run(args);
