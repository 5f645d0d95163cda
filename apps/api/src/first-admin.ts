import { INestApplication, Logger } from '@nestjs/common';
import { AuthService } from '@tally/auth';
import { TallyConfig } from '@tally/config';

/** ADMIN_EMAIL + ADMIN_PASSWORD create the first admin at boot (idempotent). */
export async function ensureConfiguredAdmin(app: INestApplication, config: TallyConfig): Promise<void> {
  if (!config.adminEmail || !config.adminPassword) return;
  const { created } = await app.get(AuthService).ensureAdmin(config.adminEmail, config.adminPassword);
  if (created) new Logger('Tally').log(`Admin ${config.adminEmail} created from configuration`);
}
