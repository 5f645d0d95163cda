import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { SweepsService } from './sweeps.service';

/** Overrides config.runBackground: apps/worker always runs the loop, whatever the API does. */
export const FORCE_BACKGROUND = Symbol('FORCE_BACKGROUND');

/**
 * The background loop: every `sweepIntervalMs` it runs one pass of the sweeps. Started when the
 * module initialises if config.runBackground (the zero-setup single process) or FORCE_BACKGROUND
 * (apps/worker); stopped on shutdown, waiting for a pass in flight so the pool is not closed under
 * it. Passes never overlap: a slow pass delays the next one instead of stacking up.
 */
@Injectable()
export class BackgroundService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Background');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly sweeps: SweepsService,
    @Inject(FORCE_BACKGROUND) private readonly force: boolean,
  ) {}

  onModuleInit(): void {
    if ((this.config.runBackground || this.force) && this.config.sweepIntervalMs > 0) this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  get active(): boolean {
    return !!this.timer;
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.tick(), this.config.sweepIntervalMs);
    this.timer.unref?.();
    this.log.log(`background sweeps every ${this.config.sweepIntervalMs} ms`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass unless one is already running; errors are logged and the loop goes on. */
  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = this.sweeps.runOnce().catch((err) => this.log.error(`sweep failed: ${err?.message ?? err}`, err?.stack));
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }
}
