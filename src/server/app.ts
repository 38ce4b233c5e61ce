/**
 * The artprobe server as a fastify app: `buildApp(opts)` takes the workspace's lock (one server per workspace),
 * opens the workspace (integrity-checked), starts the model host (worker processes), the job queue and the
 * compute threads (metrics, exports, catalogs), adds the security hooks (`./security.ts`: Host allow-list,
 * token, cross-site refusal, security headers) on the root instance so they cover every route, and registers
 * every route (`artprobePlugin`). Loopback only unless the caller listens elsewhere (then with a token); CORS
 * headers are never sent; JSON bodies are limited (1 MB), uploads too (50 MB, 100 megapixels by default), and
 * the work per painting is bounded (map pixel budget, tiles, attempts).
 *
 * @example
 * const app = await buildApp({ workspace: '/tmp/ws', model: '../shared/toy/A/model' });
 * await app.artprobe.modelReady;
 * const res = await app.inject({ method: 'GET', url: '/api/health' });
 * await app.close();
 */
import { existsSync, mkdirSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { resolve } from 'node:path';
import multipart from '@fastify/multipart';
import { Ajv } from 'ajv';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyServerOptions,
  type FastifyTypeProvider,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Static, TSchema } from 'typebox';
import { ComputePool } from './compute.ts';
import { HttpError, JobQueue } from './jobs.ts';
import { ModelHost, type ModelInfo } from './model-host.ts';
import { registerOpenApi, VERSION } from './openapi.ts';
import { registerAnnotationRoutes } from './routes/annotations.ts';
import { registerBatchRoutes } from './routes/batches.ts';
import { registerCatalogRoutes } from './routes/catalogs.ts';
import { registerCollectionImportRoutes } from './routes/collection-import.ts';
import { registerDecomposeRoutes } from './routes/decompose.ts';
import { registerEmbeddingMapRoutes } from './routes/embedding-maps.ts';
import { registerExportRoutes } from './routes/exports.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerIiifRegionRoutes } from './routes/iiif-region.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { registerMapRoutes } from './routes/maps.ts';
import type { MetricCache } from './routes/metrics.ts';
import { registerMetricRoutes } from './routes/metrics.ts';
import { registerModelRoutes } from './routes/models.ts';
import { registerPaintingRoutes } from './routes/paintings.ts';
import { registerProbeRoutes } from './routes/probe.ts';
import { registerRegionRevisionRoutes } from './routes/region-revisions.ts';
import { registerSuiteRoutes } from './routes/suites.ts';
import { registerTextRelevanceRoutes } from './routes/text-relevance.ts';
import { registerUiRoutes } from './routes/ui.ts';
import type { Validated } from './schemas.ts';
import { registerSecurity, type SecurityContext } from './security.ts';
import { acquireWorkspaceLock } from './workspace/lock.ts';
import { Workspace } from './workspace.ts';

export { VERSION };

export interface AppOptions {
  /** Workspace folder (created when missing). */
  workspace: string;
  /** Model folder or installed hub id to load at start; none: model features answer 503 until one is switched in. */
  model?: string;
  /** Where installed hub models are listed from (default `$ARTPROBE_MODELS` or `<repo>/models`). */
  modelsDir?: string;
  /** Jobs running at once (default 1). */
  concurrency?: number;
  /** Largest upload or fetched image in bytes (default 50 MB). */
  maxUploadBytes?: number;
  /** Largest image in pixels, checked on the header before decoding (default 100 M). */
  maxPixels?: number;
  /** Largest JSON body in bytes (default 1 MB). */
  bodyLimit?: number;
  /** Built web UI folder (default `<repo>/dist/ui`). */
  uiDir?: string;
  /** TensorFlow.js backend for the model workers. */
  backend?: string;
  /** Fastify logger option (default off). */
  logger?: FastifyServerOptions['logger'];
  /** Timeout of outgoing fetches (URL / IIIF import), ms (default 20 000). */
  fetchTimeoutMs?: number;
  /** Note shown by /api/health when no model could be loaded (e.g. how to install one offline). */
  modelHint?: string;
  /** How long a zero-shot probe waits for a busy model worker before answering 503, ms (default 30 000). */
  probeWaitMs?: number;
  /** The address the server will listen on (default 127.0.0.1): with the localhost names, the `Host` values answered. */
  host?: string;
  /** More `Host` names to answer (e.g. this machine's DNS name). */
  allowHosts?: string[];
  /** Token every request must carry (bearer header, or the cookie the one-time sign-in URL sets); none: no auth. */
  token?: string;
  /** Let URL / IIIF import fetch loopback, private and link-local addresses (default false). */
  allowPrivateFetch?: boolean;
  /** Pixel budget of the painting a job works on and of its stored maps (default 2048 × 2048). */
  maxMapPixels?: number;
  /** Most tiles of a tiles-view job (default 64). */
  maxTiles?: number;
  /** Starts of a job (restarts after a crash included) before it fails for good (default 3). */
  maxAttempts?: number;
  /** Take the workspace's lock so that no second server uses it (default true). */
  lock?: boolean;
}

/** What routes share. */
export interface AppContext {
  opts: Required<Pick<AppOptions, 'maxUploadBytes' | 'maxPixels' | 'fetchTimeoutMs' | 'probeWaitMs'>> &
    AppOptions;
  ws: Workspace;
  host: ModelHost;
  queue: JobQueue;
  /** Resolves when the start-up model is loaded (or failed: then `host.state` is `error`). */
  modelReady: Promise<ModelInfo | undefined>;
  /** Switches the model: waits for running jobs, loads, re-checks queued jobs. */
  switchModel(source: string): Promise<ModelInfo>;
  /** Worker threads for work that would block the HTTP thread. */
  compute: { metrics: ComputePool; exports: ComputePool };
  /** Region-metric rows by (map, annotation version), set by the metrics routes. */
  metricCache?: MetricCache;
  /** Host allow-list and token; `security.loginPath()` makes a one-time sign-in link. */
  security: SecurityContext;
}

declare module 'fastify' {
  interface FastifyInstance {
    artprobe: AppContext;
  }
}

/**
 * TypeBox types for routes (like @fastify/type-provider-typebox's, with defaults): `req.params`, `req.query`
 * and `req.body` get their schema's type as validated (properties with a default are set), replies are
 * checked against the response schemas.
 */
export interface ArtprobeTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Validated<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

/** The app as routes see it: typed from the TypeBox schemas. */
export type ArtprobeApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ArtprobeTypeProvider
>;

/**
 * Every route of the API, as a plugin over a shared context.
 *
 * @example
 * app.register(artprobePlugin, { ctx });
 */
export async function artprobePlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: ctx.opts.maxUploadBytes, files: 1, fields: 20, parts: 25, fieldSize: 64 * 1024 },
    throwFileSizeLimit: true,
  });
  await registerOpenApi(app, {
    title: 'artprobe',
    version: VERSION,
    description:
      'How CLIP sees art: paintings, explanation jobs and maps, zero-shot probes, regions, metrics',
  });
  const api = app.withTypeProvider<ArtprobeTypeProvider>();
  registerHealthRoutes(api, ctx);
  registerPaintingRoutes(api, ctx);
  registerCatalogRoutes(api, ctx);
  registerModelRoutes(api, ctx);
  registerSuiteRoutes(api, ctx);
  registerProbeRoutes(api, ctx);
  registerJobRoutes(api, ctx);
  registerMapRoutes(api, ctx);
  registerEmbeddingMapRoutes(api, ctx);
  registerAnnotationRoutes(api, ctx);
  registerMetricRoutes(api, ctx);
  registerExportRoutes(api, ctx);
  registerCollectionImportRoutes(api, ctx);
  registerRegionRevisionRoutes(api, ctx);
  registerBatchRoutes(api, ctx);
  registerIiifRegionRoutes(api, ctx);
  registerTextRelevanceRoutes(api, ctx);
  registerDecomposeRoutes(api, ctx);
  await registerUiRoutes(api, ctx);
}

/**
 * Builds the server (not listening). Close it with `app.close()`: jobs still running stay `running` in the
 * database and are re-queued at the next start.
 *
 * @example
 * const app = await buildApp({ workspace: 'ws', model: 'openai/clip-vit-base-patch32' });
 * await app.listen({ port: 8787, host: '127.0.0.1' });
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const opts = {
    maxUploadBytes: 50 * 1024 * 1024,
    maxPixels: 100_000_000,
    fetchTimeoutMs: 20_000,
    probeWaitMs: 30_000,
    ...options,
  };
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
  });
  // bodies are validated strictly (a number is not a string); params and query strings are coerced from text;
  // `oneOf` with a `discriminator` (targets, job requests) reports the errors of the shape its tag names
  const strict = new Ajv({
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: false,
    allowUnionTypes: true,
    discriminator: true,
    strict: false,
  });
  const coercing = new Ajv({
    coerceTypes: true,
    useDefaults: true,
    removeAdditional: false,
    allowUnionTypes: true,
    discriminator: true,
    strict: false,
  });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
  app.addContentTypeParser(['application/ld+json'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      (e as FastifyError).statusCode = 400;
      done(e as Error, undefined);
    }
  });
  const security = registerSecurity(app, { host: opts.host, allowHosts: opts.allowHosts, token: opts.token });
  const root = resolve(opts.workspace);
  if (!existsSync(root)) mkdirSync(root, { recursive: true, mode: 0o700 });
  const lock = opts.lock === false ? undefined : acquireWorkspaceLock(root);
  let ws: Workspace;
  try {
    ws = Workspace.open(root, { check: true });
  } catch (e) {
    lock?.release();
    throw e;
  }
  const host = new ModelHost({
    workers: opts.concurrency ?? 1,
    backend: opts.backend,
    maxPixels: opts.maxPixels,
    maxMapPixels: opts.maxMapPixels,
  });
  const queue = new JobQueue(ws, host, {
    concurrency: opts.concurrency ?? 1,
    maxAttempts: opts.maxAttempts,
    maxTiles: opts.maxTiles,
    maxMapPixels: opts.maxMapPixels,
  });
  const startup = async (): Promise<ModelInfo | undefined> => {
    if (!opts.model) {
      queue.recover();
      return undefined;
    }
    try {
      return await host.load(opts.model);
    } catch (e) {
      app.log.error(`model ${opts.model} could not be loaded: ${(e as Error).message}`);
      return undefined;
    } finally {
      const r = queue.recover();
      if (r.requeued || r.failed)
        app.log.info(`recovered unfinished jobs: ${r.requeued} re-queued, ${r.failed} failed`);
    }
  };
  const ctx: AppContext = {
    opts,
    ws,
    host,
    queue,
    modelReady: startup(),
    async switchModel(source) {
      await ctx.modelReady;
      await queue.whenRunningDone();
      try {
        return await host.load(source);
      } finally {
        queue.resume();
      }
    },
    compute: { metrics: new ComputePool('metrics'), exports: new ComputePool('export') },
    security,
  };
  app.decorate('artprobe', ctx);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err instanceof HttpError ? err.statusCode : err.validation ? 400 : (err.statusCode ?? 500);
    if (status >= 500) req.log.error(err);
    const message = err.validation ? `invalid request: ${err.message}` : err.message;
    if (err instanceof HttpError) reply.headers(err.headers);
    reply
      .code(status)
      .send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, code: err.code });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    });
  });
  app.addHook('onClose', async () => {
    queue.close();
    await ctx.modelReady.catch(() => undefined);
    await host.close();
    await Promise.all([ctx.compute.metrics.close(), ctx.compute.exports.close()]);
    ws.close();
    lock?.release();
  });
  await app.register(artprobePlugin, { ctx });
  return app;
}
