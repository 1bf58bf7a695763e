// Import cycles, checked by `pnpm lint` (scripts/lint/import-graph.ts) beside the boundaries in
// .dependency-cruiser.cjs, on the graph Node actually loads.
//
// Why a cruise of its own: dependency-cruiser finds, for each import, one cycle through it in the
// whole graph, and a rule can only filter that one cycle. With `import type` edges in the graph,
// `viaOnly: { dependencyTypesNot: ['type-only'] }` misses a value cycle a → b → c → a as soon as
// each of its imports also closes a shorter cycle through an `import type` (b → a, c → b, a → c),
// a shape a deps.ts that both defines and builds the dependencies invites. The reverse is issue
// #695: a rule on the import's own type (`dependencyTypesNot`, or `preCompilationOnly: false`,
// which with tsPreCompilationDeps true matches nothing and with 'specify' works like it) reports
// a cycle closed by `import type` from its one value import. With `tsPreCompilationDeps: false`
// the files are compiled first, so `import type` edges are not in the graph at all and every
// cycle left is one whose every import survives compilation. test/lint/import-graph.test.ts
// holds these cases.
const { options } = require('./.dependency-cruiser.cjs');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-value-cycle',
      severity: 'error',
      comment:
        'Under ESM a module in a cycle can run before the module it imports from has finished, and then ' +
        'reads a binding that is not initialised yet (a TDZ error, or undefined through a namespace). ' +
        'Break it by moving the shared piece into a module of its own, or make the back edge `import type`.',
      from: {},
      to: { circular: true },
    },
  ],
  options: { ...options, tsPreCompilationDeps: false },
};
