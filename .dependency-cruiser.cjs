// The import graph's boundaries, checked by `pnpm lint` (scripts/lint/import-graph.ts) over
// packages/, services/, test/ and scripts/. Paths are relative to the repository root.
//
// This cruise sees every import, `import type` included: a test that borrows a type from another
// service's internals breaks as surely as one that borrows a value when that service moves a
// file. Cycles are checked by a second cruise that sees only the imports Node runs
// (.dependency-cruiser.cycles.cjs), since a cycle closed by a type-only import is harmless.

// A test: a *.test.ts file, or anything in a test/ or testing/ folder (harnesses, fixtures).
const TEST = '(\\.test\\.ts$|/(test|testing)/)';
// What a service offers other code: its package entries, @otp/<service> and @otp/<service>/testing.
const ENTRY = '[^/]+/src/(testing/)?index\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cross-service-runtime-import',
      severity: 'error',
      comment:
        'Services are deployed, scaled and restarted on their own: what one needs from another travels as a ' +
        'job, an HTTP call or a shared package (packages/), never as an import of its code.',
      from: { path: '^services/([^/]+)/src/', pathNot: TEST },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'packages-never-import-services',
      severity: 'error',
      comment:
        'The direction is services → packages/db → packages/domain: a package that imports a service ' +
        'makes every other service depend on that service too.',
      from: { path: '^packages/' },
      to: { path: '^services/' },
    },
    {
      name: 'service-test-reaches-into-another-service',
      severity: 'error',
      comment:
        "A service's tests may use its own files freely, but another service only through its package " +
        'entries (@otp/<service>, @otp/<service>/testing): its other files are free to move.',
      from: { path: `^services/([^/]+)(?=.*${TEST})` },
      to: { path: '^services/', pathNot: `^services/($1/|${ENTRY})` },
    },
    {
      name: 'root-test-or-script-reaches-into-a-service',
      severity: 'error',
      comment:
        'The system tests and the scripts use a service the way its users do, through its package entries ' +
        '(@otp/<service>, @otp/<service>/testing); its other files are free to move.',
      from: { path: '^(test|scripts)/' },
      to: { path: '^services/', pathNot: `^services/${ENTRY}` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // dist/ holds the declarations `tsc -b` writes beside each service's sources.
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    // Read for the cruise that compiles first: with verbatimModuleSyntax, `import { type A }` stays
    // in the output as `import {} from ...`, and Node's type stripping keeps it too.
    tsConfig: { fileName: 'tsconfig.base.json' },
    // Workspace packages resolve through their package.json "exports" to src/, as Node resolves them.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
    },
  },
};
