/**
 * The module boundaries of src/ (README "Layout"), checked by `npm run lint:deps` instead of by
 * convention. Observe (src/live) and act (src/apply) stay apart, the planner (src/plan) is pure,
 * render only reads models. dependency-cruiser sees modules, not the names imported from them, so
 * "src/live imports no mutating SDK command" is enforced in two halves: here, src/live may not
 * import the modules that hold mutating calls or hand out read-write clients; the named-import half
 * (no `RunInstancesCommand` etc. from `@aws-sdk/*`) is test/boundaries.test.ts.
 *
 * tsPreCompilationDeps keeps type-only imports in the graph (TypeScript erases them), which is what
 * lets "src/plan imports only types from src/live and src/desired" be a rule.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'live-not-to-act',
      severity: 'error',
      comment:
        'src/live observes and never acts: it may not import src/apply (mutating calls), src/aws or src/cloudflare (read-write client factories) or src/store (audit writes). It reads through the read-only views in src/live/readers.ts.',
      from: { path: '^src/live/' },
      to: { path: '^src/(apply|aws|cloudflare|store)/' },
    },
    {
      name: 'plan-only-types-from-live-and-desired',
      severity: 'error',
      comment: 'The planner is pure: from src/live and src/desired it takes types (the inventory and the desired state), never code that observes or loads.',
      from: { path: '^src/plan/' },
      to: { path: '^src/(live|desired)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'plan-no-sdk',
      severity: 'error',
      comment: 'The planner is pure: no AWS or Cloudflare SDK, not even its types (the inventory model is the interface).',
      from: { path: '^src/plan/' },
      to: { path: '(^|/)node_modules/(@aws-sdk/|@smithy/|cloudflare/)' },
    },
    {
      name: 'plan-no-side-effect-layers',
      severity: 'error',
      comment: 'The planner is pure: it does not reach into the act side, the clients, the store, the CLI or the renderers.',
      from: { path: '^src/plan/' },
      to: { path: '^src/(apply|aws|cloudflare|store|cli|app|render)/' },
    },
    {
      name: 'render-not-to-apply',
      severity: 'error',
      comment: 'Renderers read models (src/plan/model.ts, src/changeset/model.ts); they never depend on the act side.',
      from: { path: '^src/render/' },
      to: { path: '^src/apply/' },
    },
    {
      name: 'web-read-only',
      severity: 'error',
      comment: 'The web view only reads (the audit store, the snapshot serve keeps): it never reaches the act side, the read-write client factories or the CLI.',
      from: { path: '^src/web/' },
      to: { path: '^src/(apply|aws|cloudflare|cli)/' },
    },
    {
      name: 'web-no-sdk',
      severity: 'error',
      comment: 'The web view renders plain models; it imports no AWS or Cloudflare SDK, not even types.',
      from: { path: '^src/web/' },
      to: { path: '(^|/)node_modules/(@aws-sdk/|@smithy/|cloudflare/)' },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment: 'Product code has no test-only branches and never imports test code or the emulator harness.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle in src/ hides which layer owns what; break it by moving the shared piece down.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-dev-dep',
      severity: 'error',
      comment: 'src/ ships: it may not import a devDependency (vitest, fast-check, tsx, ...), which `npm ci --omit=dev` would not install.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'], pathNot: ['(^|/)node_modules/@types/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or a package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // ES modules with NodeNext resolution (dependency-cruiser maps `./x.js` in source to `./x.ts`).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
