import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { TallyConfig } from '@tally/config';
import { httpMetricsMiddleware } from '@tally/metrics';
import { AppModule } from './app.module';
import { jsonBodyProblem, urlProblem } from './common/json-guard';
import { validationPipe } from './common/validation';
import { serveWebUi } from './web-ui';

/** Routes whose body is streamed by the handler itself (bulk imports), not parsed up front. */
export const STREAMED_BODY = /^\/api\/campaigns\/[^/]+\/items\/?(\?|$)/;

/** Routes that need the body as raw bytes (Stripe webhook signatures; the MTurk-compatible API's SigV4 covers the body's hash). */
export const RAW_BODY = /^\/api\/(stripe\/webhook|mturk|mturk\/submit\/[^/?]+\/mturk\/externalSubmit)\/?(\?|$)/;

/**
 * The browser UI's Content-Security-Policy: scripts, styles, data and images from Tally itself
 * (item images come through the signed image proxy, /api/images), no plugins, no framing by other
 * sites. Frames may show Tally's own pages (MTurk HTMLQuestion) and https pages (ExternalQuestion).
 * Inline styles are allowed for the API docs' and the charts' style attributes; inline script is not.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameSrc: ["'self'", 'https:'],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'self'"],
};

/** Builds the HTTP app exactly as production runs it; tests use the same function. */
export async function createApp(config: TallyConfig, databaseUrl: string, opts: { logger?: boolean } = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, databaseUrl }), {
    bodyParser: false,
    bufferLogs: true,
    logger: opts.logger === false ? false : undefined,
  });
  if (opts.logger !== false) app.useLogger(app.get(Logger));
  configureApp(app, config);
  await app.init();
  return app;
}

export function configureApp(app: NestExpressApplication, config: TallyConfig): void {
  app.set('trust proxy', 'loopback');
  // Keep idle keep-alive connections longer than clients and load balancers do (AWS SDKs and boto3
  // pool them; ALB's idle timeout is 60 s): with Node's 5 s default, a client that reuses a socket
  // just as the server closes it gets "socket hang up".
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  app.use(httpMetricsMiddleware); // Prometheus HTTP latency histogram (GET /metrics)
  app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY } }));
  serveWebUi(app); // the browser UI (dist/web) at /, with an SPA fallback outside /api
  app.enableCors({ origin: config.corsOrigins.length ? config.corsOrigins : false, credentials: true });
  const parseJson = express.json({ limit: config.bodyLimit });
  // Parsed bodies too deep to validate safely, or with strings that are not Unicode, stop here with a 400 naming the path.
  const json = (req: express.Request, res: express.Response, next: express.NextFunction) =>
    parseJson(req, res, (err?: unknown) => next(err ?? jsonBodyProblem(req.body)));
  app.use((req: express.Request, _res: express.Response, next: express.NextFunction) => next(urlProblem(req.originalUrl)));
  // Stripe signs the exact bytes it sends: the webhook gets the raw body, never re-serialised JSON.
  const raw = express.raw({ type: () => true, limit: '1mb' });
  app.use((req: express.Request, res: express.Response, next: express.NextFunction) =>
    req.method === 'POST' && STREAMED_BODY.test(req.originalUrl)
      ? next()
      : req.method === 'POST' && RAW_BODY.test(req.originalUrl)
        ? raw(req, res, next)
        : json(req, res, next),
  );
  app.setGlobalPrefix('api', {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(validationPipe());
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tally API')
      .setDescription('Crowdsourcing marketplace for data labeling with consensus quality control')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs-json' });
}
