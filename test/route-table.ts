import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import http from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * The route table of the running api app, read from Express's router (so every controller route
 * is here, documented in OpenAPI or not), and the OpenAPI document built the way bootstrap.ts
 * builds it. test/fuzz.e2e-spec.ts and test/authz-matrix.e2e-spec.ts both start from this, so a
 * new route is fuzzed and must be classified without anyone listing it by hand.
 */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express pattern, e.g. /api/campaigns/:id */
  path: string;
  /** `${method} ${path}`, the key of the authorization policy table */
  key: string;
  /** path parameter names in order */
  params: string[];
}

const VERBS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function routeTable(app: INestApplication): Route[] {
  const instance = app.getHttpAdapter().getInstance();
  const router = instance.router ?? instance._router;
  const seen = new Map<string, Route>();
  for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
    // Nest registers middleware/exclusion shims for every HTTP method on a path (and Swagger UI
    // registers its static files): those are not endpoints of ours.
    if (methods.length > VERBS.length || layer.route.methods._all) continue;
    const path = layer.route.path.length > 1 ? layer.route.path.replace(/\/$/, '') : layer.route.path;
    if (path.startsWith('/api/docs')) continue;
    for (const m of methods) {
      if (!(VERBS as readonly string[]).includes(m)) continue;
      const method = m.toUpperCase() as Route['method'];
      const key = `${method} ${path}`;
      if (!seen.has(key)) seen.set(key, { method, path, key, params: [...path.matchAll(/:(\w+)/g)].map((x) => x[1]) });
    }
  }
  return [...seen.values()];
}

export function openApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(app, new DocumentBuilder().addBearerAuth().build());
}

/** /api/campaigns/:id → /api/campaigns/{id} */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** the parsed body when it is JSON, else undefined */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** path with the query string, already encoded */
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * A keep-alive HTTP client for the app listening on a local port: thousands of requests without
 * supertest's listen-per-request, and full control of headers and bytes (signed MTurk requests,
 * malformed JSON, odd content types).
 */
export class LocalClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  constructor(readonly port: number) {}

  static async listen(app: INestApplication): Promise<LocalClient> {
    await app.listen(0, '127.0.0.1');
    // idle keep-alive sockets must outlive the client's pauses, or a reused one races the server's close
    app.getHttpServer().keepAliveTimeout = 120_000;
    return new LocalClient((app.getHttpServer().address() as AddressInfo).port);
  }

  get host() {
    return `127.0.0.1:${this.port}`;
  }

  /** One retry when a reused keep-alive socket turned out closed (the request never reached the app). */
  async send(req: RawRequest): Promise<Reply> {
    try {
      return await this.once(req);
    } catch (err) {
      if ((err as { reused?: boolean }).reused) return this.once(req);
      throw err;
    }
  }

  private once(req: RawRequest): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
      const r = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: req.method,
          path: req.url,
          agent: this.agent,
          headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            if (/json/.test(String(res.headers['content-type'] ?? ''))) {
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      r.on('error', (err) => reject(Object.assign(err, { reused: r.reusedSocket && /ECONNRESET|socket hang up/.test(`${(err as { code?: string }).code} ${err.message}`) })));
      r.setTimeout(30_000, () => r.destroy(new Error(`timeout: ${req.method} ${req.url}`)));
      if (body) r.write(body);
      r.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}
