import { createServer, Server } from 'node:http';
import { metricsRegistry } from './metrics';

/** True when the request may read /metrics: no token configured, or `Authorization: Bearer <token>`. */
export function metricsAuthorized(token: string | undefined, authorization: string | undefined): boolean {
  if (!token) return true;
  const expected = `Bearer ${token}`;
  if (!authorization || authorization.length !== expected.length) return false;
  // constant-time comparison
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ authorization.charCodeAt(i);
  return diff === 0;
}

/**
 * A separate plain HTTP listener for GET /metrics (and GET /health when given a check), for
 * METRICS_PORT: apps/worker has no HTTP API, and an API may keep metrics off its public port.
 */
export async function startMetricsServer(
  port: number,
  opts: { token?: string; host?: string; health?: () => Promise<{ ok: boolean; body: unknown }> } = {},
): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/metrics') {
        if (!metricsAuthorized(opts.token, req.headers.authorization)) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'UNAUTHENTICATED', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' }));
          return;
        }
        const body = await metricsRegistry.metrics();
        res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(body);
      } else if (req.method === 'GET' && path === '/health' && opts.health) {
        const h = await opts.health();
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h.body));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'NOT_FOUND' }));
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'INTERNAL', message: (err as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}
