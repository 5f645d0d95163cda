import { DynamicModule, Global, Module } from '@nestjs/common';
import { loadConfig, TallyConfig } from './config';

/** Injection token of the validated TallyConfig. */
export const TALLY_CONFIG = Symbol('TALLY_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Provides the given config (tests) or the one read from the environment. */
  static forRoot(config?: TallyConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: TALLY_CONFIG, useFactory: () => config ?? loadConfig() }],
      exports: [TALLY_CONFIG],
    };
  }
}
