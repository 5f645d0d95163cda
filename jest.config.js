// One Jest run, two projects: fast unit specs beside the code, and e2e specs under test/ that
// talk to a real PostgreSQL (DATABASE_URL, or the embedded PGlite started by the global setup).
const aliases = ['config', 'database', 'consensus', 'auth', 'users', 'campaigns', 'work', 'common', 'audit', 'testing', 'ledger', 'payments', 'jobs', 'quality', 'metrics', 'mturk', 'webhooks'];
const moduleNameMapper = Object.fromEntries(aliases.map((a) => [`^@tally/${a}$`, `<rootDir>/libs/${a}/src`]));
const transform = {
  '^.+\\.(t|j)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
const common = {
  rootDir: __dirname,
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs)/)'],
  moduleNameMapper,
  testEnvironment: 'node',
};
module.exports = {
  // A global option (Jest ignores it per project): e2e tests boot the app and talk to PostgreSQL.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
