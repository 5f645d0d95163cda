export { loadConfig, describeConfig, ConfigError } from './config';
export type { TallyConfig } from './config';
export { ConfigModule, TALLY_CONFIG } from './config.module';
