import 'reflect-metadata';

const USAGE = `tally <command>

  aggregate --answers FILE --method M [--gold FILE] [--out FILE] [--json] [--type T] [--repeats P]
                         aggregate crowd answers (see README: The CLI)
  admin create --email E --password P [--name N]
                         create the first admin (or give an existing user the admin role)
  migrate                apply database migrations (DATABASE_URL or the embedded database)
  simulate --admin-email E --admin-password P [--url U] [--tasks N] [--gold N] [--seed S]
           [--gold-rate R] [--min N] [--max N] [--target P] [--fixed N] [--scale-ms MS]
           [--modes dynamic,fixed] [--skill-rule block|flag|off] [--min-gold N] [--gold-rate-proven R]
                         run a scripted crowd over HTTP against a running Tally (quality control
                         vs fixed overlap); prints accuracy, cost, spammers caught, wall time
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'aggregate': {
      // Loaded lazily: the consensus CLI must start fast and never pays for Nest.
      const { aggregateCommand } = await import('./commands/aggregate.command');
      return aggregateCommand(rest);
    }
    // admin and migrate load the whole API (Nest, TypeORM): imported only when asked for
    case 'admin': {
      const { adminCommand } = await import('./commands/admin.command');
      return adminCommand(rest);
    }
    case 'migrate': {
      const { migrateCommand } = await import('./commands/admin.command');
      return migrateCommand();
    }
    case 'simulate': {
      const { simulateCommand } = await import('./commands/simulate.command');
      return simulateCommand(rest);
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
