import { Logger } from '@nestjs/common';
import { metricsRegistry } from '@tally/metrics';
import { JobRegistry } from './job-registry';
import { redisOptions } from './jobs.types';
import { LocalJobRunner } from './local-runner';

describe('background jobs in-process (LocalJobRunner, JobRegistry)', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const gate = () => {
    let open!: () => void;
    const p = new Promise<void>((r) => (open = r));
    return { p, open };
  };

  it('never overlaps a repeatable job with itself and waits for the run in flight on stop', async () => {
    const registry = new JobRegistry();
    const g = gate();
    let runs = 0;
    registry.define({ name: 'slow', everyMs: 10, run: async () => { runs++; await g.p; } });
    const runner = new LocalJobRunner(registry, { process: true });
    const first = runner.tick('slow');
    const second = runner.tick('slow'); // joins the run in flight instead of starting a second one
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false); // still waiting for the run in flight
    g.open();
    await Promise.all([first, second, stopping]);
    expect(stopped).toBe(true);
    await runner.tick('slow'); // stopped: nothing more runs
    expect(runs).toBe(1);
  });

  it('runs repeatable jobs on their own timers only when this process runs jobs', async () => {
    const registry = new JobRegistry();
    let a = 0;
    registry.define({ name: 'often', everyMs: 15, run: async () => void a++ });
    registry.define({ name: 'on-demand', run: async () => undefined });
    const idle = new LocalJobRunner(registry, { process: false });
    idle.start();
    expect(idle.active).toBe(false);
    const runner = new LocalJobRunner(registry, { process: true });
    runner.start();
    expect(runner.active).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await runner.stop();
    expect(a).toBeGreaterThanOrEqual(2);
    expect(registry.repeatable().map((j) => j.name)).toEqual(['often']);
  });

  it('deduplicates enqueued jobs by key while in flight, and a failing job neither throws nor stops the others', async () => {
    const registry = new JobRegistry();
    const g = gate();
    const seen: unknown[] = [];
    registry.define({ name: 'export', run: async (d: unknown) => { seen.push(d); await g.p; } });
    registry.define({ name: 'broken', run: async () => { throw new Error('boom'); } });
    const runner = new LocalJobRunner(registry, { process: true });
    const one = runner.runDetached('export', { n: 1 }, 'export:1');
    const again = runner.runDetached('export', { n: 1 }, 'export:1');
    const other = runner.runDetached('export', { n: 2 }, 'export:2');
    await expect(runner.runDetached('broken', {})).resolves.toBeUndefined();
    g.open();
    await Promise.all([one, again, other]);
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/tally_jobs_total\{job="broken",outcome="failed"[^}]*\} 1/);
    expect(text).toMatch(/tally_jobs_total\{job="export",outcome="completed"[^}]*\} 2/);
  });

  it('refuses a job defined twice or with a name that is not kebab-case, and runs only known jobs', async () => {
    const registry = new JobRegistry();
    registry.define({ name: 'sweep', run: async () => 1 });
    expect(() => registry.define({ name: 'sweep', run: async () => 2 })).toThrow(/defined twice/);
    expect(() => registry.define({ name: 'Bad Name', run: async () => 2 })).toThrow(/kebab-case/);
    await expect(registry.run('nope', {})).rejects.toThrow(/unknown background job "nope"/);
    await expect(registry.run('sweep', {})).resolves.toBe(1);
  });

  it('reads redis:// and rediss:// URLs into ioredis options fit for BullMQ', () => {
    expect(redisOptions('redis://127.0.0.1:6380/2')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2, tls: undefined, maxRetriesPerRequest: null });
    expect(redisOptions('rediss://user:p%40ss@cache.example:6379')).toMatchObject({ host: 'cache.example', username: 'user', password: 'p@ss', db: 0, tls: {} });
  });
});
