import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImportGraph, type ImportViolation } from '../../scripts/lint/import-graph.ts';

// The project's import rules (.dependency-cruiser*.cjs, run by `pnpm lint`) against a small tree
// laid out like the repository: two services with package entries, a package, root tests and a
// script. Each case below is one file or one cycle in it; the check runs once over the whole tree.
const files: Record<string, string> = {
  'services/gateway/package.json': JSON.stringify({
    name: '@otp/gateway',
    type: 'module',
    exports: { '.': './src/index.ts', './testing': './src/testing/index.ts' },
  }),
  'services/gateway/src/index.ts': "export { port } from './config.ts';\n",
  'services/gateway/src/config.ts': 'export const port = 3000;\n',
  'services/gateway/src/testing/index.ts': "export { harness } from '../test/harness.ts';\n",
  // A service's own test support may use any of its files.
  'services/gateway/src/test/harness.ts': "import { port } from '../config.ts';\nexport const harness = port;\n",

  // A cycle in which every import survives compilation.
  'services/gateway/src/value/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
  'services/gateway/src/value/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
  // Closed only by `import type`: parent -type-> child -type-> grand -> parent (issue #695's shape).
  'services/gateway/src/typed/parent.ts':
    "import type { Child } from './child.ts';\nexport interface Parent { child: Child }\nexport const parent = 1;\n",
  'services/gateway/src/typed/child.ts':
    "import type { Grand } from './grand.ts';\nexport interface Child { grand: Grand }\n",
  'services/gateway/src/typed/grand.ts':
    "import { parent } from './parent.ts';\nexport interface Grand { n: number }\nexport const grand = parent;\n",
  // A value cycle a -> b -> c -> a whose every import also closes a shorter cycle through an
  // `import type` back edge: the cycle a rule sees for each import is the type-only one.
  'services/gateway/src/shadowed/a.ts':
    "import { b } from './b.ts';\nimport type { C } from './c.ts';\nexport type A = C;\nexport const a = () => b;\n",
  'services/gateway/src/shadowed/b.ts':
    "import type { A } from './a.ts';\nimport { c } from './c.ts';\nexport type B = A;\nexport const b = () => c;\n",
  'services/gateway/src/shadowed/c.ts':
    "import type { B } from './b.ts';\nimport { a } from './a.ts';\nexport type C = B;\nexport const c = () => a;\n",
  // `import { type X }` is not erased: Node keeps it as `import {} from`, so the cycle is real.
  'services/gateway/src/inline/a.ts':
    "import { b } from './b.ts';\nexport interface A { n: number }\nexport const a = () => b;\n",
  'services/gateway/src/inline/b.ts': "import { type A } from './a.ts';\nexport const b = (x: A) => x;\n",

  'services/dashboard/package.json': JSON.stringify({
    name: '@otp/dashboard',
    type: 'module',
    exports: { '.': './src/index.ts' },
  }),
  'services/dashboard/src/index.ts': "export { board } from './board.ts';\n",
  // Runtime code of one service importing another, even through its package name.
  'services/dashboard/src/board.ts': "import { port } from '@otp/gateway';\nexport const board = port;\n",
  'services/dashboard/src/dashboard.test.ts':
    "import { port } from '@otp/gateway';\nimport { harness } from '@otp/gateway/testing';\nexport const ok = [port, harness];\n",
  'services/dashboard/src/test/scenario.ts':
    "import { harness } from '../../../gateway/src/test/harness.ts';\nexport const scenario = harness;\n",

  'packages/domain/src/index.ts': "import { port } from '@otp/gateway';\nexport const domain = port;\n",

  'test/config/internal.test.ts':
    "import { port } from '../../services/gateway/src/config.ts';\nexport const x = port;\n",
  'test/config/types.test.ts':
    "import type { port } from '../../services/gateway/src/config.ts';\nexport type X = typeof port;\n",
  'test/config/entry.test.ts':
    "import { port } from '@otp/gateway';\nimport { harness } from '@otp/gateway/testing';\nexport const x = [port, harness];\n",
  'scripts/bench/bench.ts': "import { port } from '../../services/gateway/src/config.ts';\nexport const x = port;\n",
};

let root: string;
let violations: ImportViolation[];

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'import-graph-')));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  // What pnpm does for a workspace package.
  mkdirSync(join(root, 'node_modules/@otp'), { recursive: true });
  symlinkSync('../../services/gateway', join(root, 'node_modules/@otp/gateway'));
  symlinkSync('../../services/dashboard', join(root, 'node_modules/@otp/dashboard'));
  ({ violations } = await checkImportGraph(root));
}, 60_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** The violations of `rule` that start in `from`, each as "from -> to". */
function reported(rule: string, from: string): string[] {
  return violations
    .filter((violation) => violation.rule === rule && violation.from.startsWith(from))
    .map((violation) => `${violation.from} -> ${violation.to}`);
}

describe('import cycles', () => {
  it('reports a cycle in which every import survives compilation', () => {
    expect(reported('no-value-cycle', 'services/gateway/src/value/')).toHaveLength(1);
  });

  it('allows a cycle closed only by type-only imports', () => {
    expect(reported('no-value-cycle', 'services/gateway/src/typed/')).toEqual([]);
  });

  it('reports a value cycle even when each of its imports also closes a type-only cycle', () => {
    expect(reported('no-value-cycle', 'services/gateway/src/shadowed/')).toHaveLength(1);
  });

  it('counts `import { type X }` as a runtime import, as Node does', () => {
    expect(reported('no-value-cycle', 'services/gateway/src/inline/')).toHaveLength(1);
  });
});

describe('service boundaries', () => {
  it("reports a service's runtime code importing another service", () => {
    expect(reported('no-cross-service-runtime-import', 'services/dashboard/src/board.ts')).toEqual([
      'services/dashboard/src/board.ts -> services/gateway/src/index.ts',
    ]);
  });

  it('reports a package importing a service', () => {
    expect(reported('packages-never-import-services', 'packages/')).toEqual([
      'packages/domain/src/index.ts -> services/gateway/src/index.ts',
    ]);
  });

  it("reports a service's test support importing another service's internal file", () => {
    expect(reported('service-test-reaches-into-another-service', 'services/dashboard/')).toEqual([
      'services/dashboard/src/test/scenario.ts -> services/gateway/src/test/harness.ts',
    ]);
  });

  it("reports root tests and scripts importing a service's internal file, by value or by type", () => {
    expect(reported('root-test-or-script-reaches-into-a-service', '').sort()).toEqual([
      'scripts/bench/bench.ts -> services/gateway/src/config.ts',
      'test/config/internal.test.ts -> services/gateway/src/config.ts',
      'test/config/types.test.ts -> services/gateway/src/config.ts',
    ]);
  });

  it('allows tests to import a service through its package entries, and a service its own files', () => {
    const allowed = ['test/config/entry.test.ts', 'services/dashboard/src/dashboard.test.ts', 'services/gateway/'];
    const boundaryViolations = violations.filter((violation) => violation.rule !== 'no-value-cycle');
    expect(boundaryViolations.filter((violation) => allowed.some((from) => violation.from.startsWith(from)))).toEqual(
      [],
    );
  });
});
