import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Paths the single-page app never answers: the API, health and metrics keep their own 404s. */
const NOT_SPA = /^\/(api|health|metrics)(\/|$|\?)/;

/**
 * Where `npm run build:web` put the browser UI (dist/web at the repo root): next to the compiled
 * API (dist/apps/api/src → dist/web) or, when the API runs from source (tests), under dist/.
 */
export function findWebRoot(): string | undefined {
  const candidates = [resolve(__dirname, '../../../web'), resolve(__dirname, '../../../dist/web')];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

/**
 * Serves the built UI at /: hashed assets with a long cache, and index.html for any other GET
 * that is not an API route (client-side routing). Without a build, nothing is mounted.
 */
export function serveWebUi(app: NestExpressApplication, root = findWebRoot()): boolean {
  if (!root) return false;
  const index = join(root, 'index.html');
  app.use(
    express.static(root, {
      index: false,
      setHeaders: (res, path) => {
        res.setHeader('Cache-Control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  app.use((req: express.Request, res: express.Response, next: express.NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_SPA.test(req.path)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
