import { NestFactory } from '@nestjs/core';
import { AuthService } from '@tally/auth';
import { loadConfig } from '@tally/config';
import { runMigrations, startEmbeddedPostgres } from '@tally/database';
import { AppModule } from '../../../api/src/app.module';
import { parseFlags } from './flags';

/** `tally admin create --email E --password P [--name N]`: the first admin (or promote a user). */
export async function adminCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'create') {
    console.error('usage: tally admin create --email EMAIL --password PASSWORD [--name NAME]');
    return 2;
  }
  const flags = parseFlags(rest);
  const email = flags.email?.trim().toLowerCase();
  const password = flags.password;
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) return fail('--email: a valid email address is required');
  if (!password || password.length < 10) return fail('--password: at least 10 characters are required');
  return withDatabase(async (databaseUrl) => {
    const config = loadConfig({ ...process.env, RUN_BACKGROUND: 'false', LOG_LEVEL: 'silent' });
    const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, databaseUrl }), { logger: false });
    try {
      const { user, created } = await app.get(AuthService).ensureAdmin(email, password, flags.name ?? 'Administrator');
      console.log(created ? `admin created: ${user.email} (${user.id})` : `admin role ensured for existing user ${user.email} (${user.id})`);
      return 0;
    } finally {
      await app.close();
    }
  });
}

/** `tally migrate`: applies pending migrations to DATABASE_URL or the embedded database. */
export async function migrateCommand(): Promise<number> {
  return withDatabase(async () => 0);
}

/** Opens DATABASE_URL, or the embedded PostgreSQL under DATA_DIR, with migrations applied. */
async function withDatabase(work: (url: string) => Promise<number>): Promise<number> {
  const config = loadConfig();
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(`${config.dataDir}/pg`);
  const url = config.databaseUrl ?? embedded!.url;
  try {
    const applied = await runMigrations(url);
    if (applied.length) console.log(`migrations applied: ${applied.join(', ')}`);
    return await work(url);
  } finally {
    await embedded?.stop();
  }
}

function fail(message: string): number {
  console.error(message);
  return 2;
}
