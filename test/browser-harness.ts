import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/**
 * What the browser specs share: the UI built from the current source, Debian's Chromium (the test
 * fails, never skips, when it cannot launch), pages that record console errors and uncaught
 * exceptions, and screenshots checked with axe-core (WCAG 2 A/AA; serious and critical findings
 * are collected for the test to assert on).
 */
export const ROOT = resolve(__dirname, '..');
export const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const AXE = require.resolve('axe-core/axe.min.js');

// Functions passed to page.evaluate run in the browser; the Nest tsconfig has no DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

export interface BrowserHarness {
  browser: Browser;
  contexts: BrowserContext[];
  /** Console errors and page exceptions; HTTP statuses the spec expects (`ignoreStatuses`) are left out. */
  consoleErrors: string[];
  a11yProblems: string[];
  newPage(opts?: { acceptDownloads?: boolean }): Promise<Page>;
  /** A full-page screenshot once every chart has drawn (charts load lazily), then the axe check. */
  shot(page: Page, name: string): Promise<void>;
  /** A picture of every open page, for whoever reads a failure. */
  shootAll(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export async function startBrowser(opts: { ignoreStatuses: number[] }): Promise<BrowserHarness> {
  execFileSync('npx', ['vite', 'build', '--config', 'apps/web/vite.config.mts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit' });
  mkdirSync(SHOTS, { recursive: true });
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const contexts: BrowserContext[] = [];
  const consoleErrors: string[] = [];
  const a11yProblems: string[] = [];
  const expected = new RegExp(`the server responded with a status of (${opts.ignoreStatuses.join('|')})`);

  async function checkA11y(page: Page, name: string): Promise<void> {
    // Evaluated, not added as a <script>: the app's CSP (script-src 'self') refuses inline scripts, and the test must not bypass it.
    if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(readFileSync(AXE, 'utf8'));
    const violations: { id: string; impact: string; help: string; nodes: string[] }[] = await page.evaluate(async () => {
      const r = await (globalThis as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
      return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n: any) => n.target.join(' ')) }));
    });
    // eslint-disable-next-line no-console
    if (process.env.WEB_E2E_DEBUG) for (const v of violations) console.log(`axe ${name}: ${v.id} (${v.impact}) ${v.nodes.join(' | ')}`);
    for (const v of violations) if (v.impact === 'serious' || v.impact === 'critical') a11yProblems.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.join(' | ')}`);
  }

  return {
    browser,
    contexts,
    consoleErrors,
    a11yProblems,
    async newPage({ acceptDownloads = false } = {}) {
      const ctx = await browser.newContext({ viewport: { width: 1366, height: 860 }, acceptDownloads });
      contexts.push(ctx);
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && !expected.test(m.text()) && consoleErrors.push(m.text()));
      return page;
    },
    async shot(page, name) {
      await page
        .waitForFunction(() => [...document.querySelectorAll('.chart-box')].every((b: any) => b.classList.contains('empty') || b.querySelector('canvas')), undefined, { timeout: 5000 })
        .catch(() => undefined);
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
      await checkA11y(page, name);
    },
    async shootAll(prefix) {
      let n = 0;
      for (const c of contexts) for (const p of c.pages()) await p.screenshot({ path: join(SHOTS, `${prefix}-${++n}.png`), fullPage: true }).catch(() => undefined);
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
    },
  };
}
