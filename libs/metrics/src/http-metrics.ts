import type { NextFunction, Request, Response } from 'express';
import { httpDuration } from './metrics';

/**
 * Express middleware timing every request into tally_http_request_duration_seconds, labelled by
 * the matched route PATTERN (`/api/work/assignments/:id/submit`, never the ids: bounded label
 * cardinality); requests that matched no route count as `unmatched`.
 */
export function httpMetricsMiddleware(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const route = req.route?.path ? `${req.baseUrl ?? ''}${req.route.path}` : 'unmatched';
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
  });
  next();
}
