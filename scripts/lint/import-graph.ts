// `pnpm lint`'s second half: the import graph of packages/, services/, test/ and scripts/ against
// the rules in .dependency-cruiser.cjs (boundaries, every import) and .dependency-cruiser.cycles.cjs
// (cycles, only the imports Node runs). Prints the violations under their rule's reason and exits
// 1 when there is one. Both cruises always run, so one run names every problem.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIGS = ['.dependency-cruiser.cjs', '.dependency-cruiser.cycles.cjs'];
const SOURCES = ['packages', 'services', 'test', 'scripts'];

export interface ImportViolation {
  rule: string;
  from: string;
  to: string;
  /** The modules of the cycle, from `from` back to it; empty unless the rule is about a cycle. */
  cycle: string[];
}

export interface ImportGraphCheck {
  violations: ImportViolation[];
  /** The violations grouped by rule, each rule with its reason, for a person to read. */
  report: string;
}

/**
 * Cruises `sources` (folders relative to `baseDir`) with the project's configurations. `baseDir`
 * is the repository root, or a tree laid out like it (the tests' fixtures).
 */
export async function checkImportGraph(baseDir = ROOT, sources = SOURCES): Promise<ImportGraphCheck> {
  const violations: ImportViolation[] = [];
  const reasons = new Map<string, string>();
  let cruised = 0;
  for (const config of CONFIGS) {
    const options = await extractDepcruiseOptions(resolve(ROOT, config));
    for (const rule of options.ruleSet?.forbidden ?? []) reasons.set(rule.name ?? '', rule.comment ?? '');
    // The configurations name the tsconfig relative to the root; the cruise may run elsewhere.
    const tsConfigFile = resolve(ROOT, options.tsConfig?.fileName ?? 'tsconfig.base.json');
    const { output } = await cruise(
      sources,
      { ...options, baseDir, tsConfig: { fileName: tsConfigFile } },
      {},
      { tsConfig: extractTSConfig(tsConfigFile) },
    );
    const { summary } = output as ICruiseResult;
    cruised = Math.max(cruised, summary.totalCruised);
    for (const violation of summary.violations) {
      violations.push({
        rule: violation.rule.name,
        from: violation.from,
        to: violation.to,
        cycle: (violation.cycle ?? []).map((step) => step.name),
      });
    }
  }
  return { violations, report: describe(violations, reasons, cruised) };
}

function describe(violations: ImportViolation[], reasons: Map<string, string>, cruised: number): string {
  if (violations.length === 0) return `import graph: no violations (${cruised} modules)\n`;
  const lines: string[] = [];
  for (const rule of new Set(violations.map((violation) => violation.rule))) {
    const ofRule = violations.filter((violation) => violation.rule === rule);
    lines.push(`✖ ${rule} (${ofRule.length})`, `  ${reasons.get(rule) ?? ''}`);
    for (const { from, to, cycle } of ofRule) {
      lines.push(`    ${cycle.length > 0 ? [from, ...cycle].join(' → ') : `${from} → ${to}`}`);
    }
    lines.push('');
  }
  lines.push(`import graph: ${violations.length} violations (${cruised} modules)`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  const { violations, report } = await checkImportGraph();
  process.stdout.write(report);
  if (violations.length > 0) process.exitCode = 1;
}
