/**
 * Decomposition and steering diagnostics over the API (the web UI's diagnostics panel; `artprobe decompose`,
 * `decompose heads` and `steer` on the command line). Model work runs in a model worker (`../diagnostics.ts`):
 * - `POST /api/paintings/:id/decompose` splits the painting's embedding into every head's, MLP's and embedding
 *   term's direct contribution (Gandelsman et al. 2024) and scores them on text directions (prompts, contrasts
 *   `A|B`, each prompt versus the rest, or a probe dimension's labels versus the rest); every head's patch map
 *   is kept with the result (`GET /api/decompositions/:id/heads.npy`, float32 [L, H, G, G], or one selection
 *   summed: `map.npy?direction=&layer=&head=`, [G, G]);
 * - `POST /api/paintings/:id/steer` pushes the painting's model input along CLIP's gradient toward a prompt (or
 *   toward one away from another, or a label within a label set) under an L∞ budget and answers the score and
 *   every probe dimension's zero-shot answer before and after, PSNR/SSIM, and the images
 *   (`GET /api/steers/:id/{original,steered,perturbation,painting}.png`, `perturbation.npy`);
 * - `POST /api/decompose/heads` (head roles over paintings, TextSpan) and `POST /api/steer/robustness` (the
 *   smallest budget that flips each dimension's answer, per painting) start tasks: `GET /api/diagnostics/tasks/:id`
 *   reports progress and the result, `POST /api/diagnostics/tasks/:id/cancel` stops one. Tasks run one at a time
 *   as model-worker jobs (a running one is cancelled by stopping its worker).
 * Every count and budget is bounded by the schemas (`../schemas/decompose.ts`) before any work starts. Results
 * are kept in memory (the last 16 decompositions and 8 steering runs, each kind within 128 MB, and 32 finished
 * tasks); an identical request is answered from there. A busy model is waited for up to `probeWaitMs` (then
 * 503 with Retry-After); no model: 503. A failure inside the worker (the request was valid) is a 500.
 *
 * @example
 * POST /api/paintings/<sha256>/decompose { "texts": ["a red circle", "a blue square"], "versusRest": true }
 * -> 200 { id, layers: 4, heads: 4, grid: 7, reconstructionError: 1.2e-6,
 *          directions: [{ label: "a red circle − mean(rest)", total, heads: [[…]], mlp: […], top: […] }, …] }
 * GET  /api/decompositions/<id>/map.npy?direction=0&layer=3&head=1 -> float32 [7, 7]
 */
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { encodeNpy } from '../../core/npy.ts';
import { parseVocabulary } from '../../decompose/vocabulary.ts';
import { listDefaultSuites, type SuiteDimension } from '../../probe/suites.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import type {
  DecomposeOutput,
  NamedImage,
  SteerOutput,
  DiagnosticsTask as WorkerTask,
} from '../diagnostics.ts';
import { canonicalJson, HttpError, noModelMessage } from '../jobs.ts';
import { CancelledError, ModelBusyError, ModelUnavailableError } from '../model-host.ts';
import {
  DECOMPOSE_REQUEST,
  DECOMPOSITION,
  DECOMPOSITION_HEADS_QUERY,
  DECOMPOSITION_MAP_QUERY,
  type Decomposition,
  DIAGNOSTICS_TASK,
  type DiagnosticsTask,
  HEAD_ROLES_REQUEST,
  type HeadRolesResult,
  MAX_DIMENSION_DIRECTIONS,
  RESULT_PARAMS,
  ROBUSTNESS_REQUEST,
  type RobustnessResult,
  STEER_FILE_PARAMS,
  STEER_FILES,
  STEER_REQUEST,
  STEER_RESULT,
  type SteerResult,
  TASK_LIST_QUERY,
} from '../schemas/decompose.ts';
import { binary, PAINTING_PARAMS, UUID_PARAMS, withErrors } from '../schemas.ts';
import { type PaintingRow, sha256Hex } from '../workspace.ts';
import { requirePainting } from './paintings.ts';
import { loadSuites, pickDimensions } from './probe.ts';

/** Results kept in memory. */
export const KEEP = { decompositions: 16, steers: 8, tasks: 32, bytes: 256 * 1024 * 1024 } as const;

/**
 * A map that forgets its oldest entries beyond `size` entries or `maxBytes` bytes (as `bytes` weighs them; the
 * newest entry is always kept); reading an entry makes it the newest.
 */
class Recent<V> {
  private map = new Map<string, V>();
  private total = 0;
  constructor(
    private readonly size: number,
    private readonly maxBytes: number,
    private readonly bytes: (v: V) => number,
  ) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    const old = this.map.get(key);
    if (old !== undefined) this.total -= this.bytes(old);
    this.map.delete(key);
    this.map.set(key, v);
    this.total += this.bytes(v);
    while (this.map.size > 1 && (this.map.size > this.size || this.total > this.maxBytes)) {
      const oldest = this.map.keys().next().value as string;
      this.total -= this.bytes(this.map.get(oldest) as V);
      this.map.delete(oldest);
    }
  }
}

interface TaskRecord {
  task: DiagnosticsTask;
  work: WorkerTask;
  cancelled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checks prompt specs: "T" or "A|B" with non-empty parts; versus-rest needs two plain prompts. */
function checkTexts(texts: string[], versusRest: boolean): void {
  texts.forEach((t, i) => {
    const parts = t.split('|').map((x) => x.trim());
    if (parts.length > 2 || parts.some((p) => !p))
      throw new HttpError(
        400,
        `texts[${i}]: ${JSON.stringify(t)} is neither a prompt nor a contrast "A|B" of two prompts`,
      );
  });
  if (versusRest && texts.filter((t) => !t.includes('|')).length < 2)
    throw new HttpError(
      400,
      'versusRest needs at least two plain texts (each is contrasted with the mean of the others)',
    );
}

/**
 * Registers the decomposition and steering routes.
 *
 * @example
 * registerDecomposeRoutes(api, ctx);
 */
export function registerDecomposeRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws, host } = ctx;
  const suitesDir = ws.dir('suites');
  // each kind of result at most KEEP.bytes / 2 of memory (head maps of large models, steered paintings)
  const decompositions = new Recent<{ json: Decomposition; maps: Float32Array }>(
    KEEP.decompositions,
    KEEP.bytes / 2,
    (d) => d.maps.byteLength,
  );
  const steers = new Recent<{ json: SteerResult; files: SteerOutput['files'] }>(
    KEEP.steers,
    KEEP.bytes / 2,
    (r) => Object.values(r.files).reduce((a, f) => a + f.byteLength, 0),
  );
  const inflight = new Map<string, Promise<unknown>>();
  const tasks = new Map<string, TaskRecord>();
  const pending: string[] = [];
  let running = false;
  let closed = false;
  app.addHook('onClose', async () => {
    closed = true;
  });

  const unavailable = () =>
    new HttpError(503, `${noModelMessage(host)}${ctx.opts.modelHint ? ` (${ctx.opts.modelHint})` : ''}`);
  const requireModel = () => {
    if (host.state === 'none' || host.state === 'error') throw unavailable();
  };
  const named = (p: PaintingRow): NamedImage => ({
    file: ws.paintingFile(p),
    name: `painting "${p.name}"`,
    id: p.id,
  });
  const publicMessage = (m: string) => m.split(ws.root).join('<workspace>');
  const maxMapPixels = () => ctx.queue.limits.maxMapPixels;

  /** One short request on a worker, answered once for identical requests running at the same time. */
  async function once<T>(key: string | undefined, run: () => Promise<T>): Promise<T> {
    const hit = key ? (inflight.get(key) as Promise<T> | undefined) : undefined;
    if (hit) return hit;
    const p = run();
    if (key) inflight.set(key, p);
    try {
      return await p;
    } finally {
      if (key && inflight.get(key) === p) inflight.delete(key);
    }
  }

  /** Runs a short diagnostics request, with the route's errors. */
  async function diagnose<T>(
    task: WorkerTask,
  ): Promise<{ result: T; model: { id: string; fingerprint: string } }> {
    try {
      const { result, model } = await host.diagnostics<T>(
        { maxMapPixels: maxMapPixels(), task },
        { waitMs: ctx.opts.probeWaitMs },
      );
      return { result, model: { id: model.id, fingerprint: model.fingerprint } };
    } catch (e) {
      if (e instanceof ModelBusyError) throw new HttpError(503, e.message, { 'retry-after': '5' });
      if (e instanceof ModelUnavailableError) throw unavailable();
      // requests are checked before the worker is asked: what fails there is the server's problem
      throw new HttpError(500, publicMessage((e as Error).message));
    }
  }

  /** Suites by name (default: every default suite) and the dimensions picked from them. */
  async function dimensionsOf(suites: string[] | undefined, names: string[] | undefined) {
    const given = !!suites?.length;
    const suiteNames = [...new Set(given ? suites : listDefaultSuites())].sort();
    if (!suiteNames.length) throw new HttpError(400, 'no suites given and no default suites installed');
    const loaded = await loadSuites(suitesDir, suiteNames);
    return { suiteNames, dims: pickDimensions(loaded, names ?? [], given) };
  }

  // ---- decomposition

  app.post(
    '/api/paintings/:id/decompose',
    {
      schema: {
        summary:
          "a painting's embedding split into every head's, MLP's and embedding term's direct contribution, scored on text directions (Gandelsman et al.)",
        tags: ['diagnostics'],
        params: PAINTING_PARAMS,
        body: DECOMPOSE_REQUEST,
        response: withErrors({ 200: DECOMPOSITION }, 404, 503),
      },
    },
    async (req) => {
      const painting = requirePainting(ws, req.params.id);
      const body = req.body;
      const texts = body.texts ?? [];
      if (texts.length && body.dimension) throw new HttpError(400, 'give "texts" or "dimension", not both');
      if (!texts.length && !body.dimension)
        throw new HttpError(
          400,
          'give "texts" (prompts, or "A|B" contrasts) or "dimension" (a probe dimension)',
        );
      if (body.suite && !body.dimension) throw new HttpError(400, '"suite" needs "dimension"');
      checkTexts(texts, body.versusRest);
      let dimension: SuiteDimension | undefined;
      if (body.dimension) {
        const { dims } = await dimensionsOf(body.suite ? [body.suite] : undefined, [body.dimension]);
        if (dims.length !== 1)
          throw new HttpError(
            400,
            `dimension: "${body.dimension}" is a suite of ${dims.length} dimensions; name one of them (${dims.map((d) => d.name).join(', ')})`,
          );
        dimension = dims[0];
        if (dimension.labels.length > MAX_DIMENSION_DIRECTIONS)
          throw new HttpError(
            400,
            `dimension: ${dimension.name} has ${dimension.labels.length} labels; a decomposition takes at most ${MAX_DIMENSION_DIRECTIONS}`,
          );
      }
      requireModel();
      const spec = {
        texts: dimension ? undefined : texts,
        versusRest: body.versusRest,
        dimension: dimension ? { ...dimension, source: '' } : undefined,
        view: body.view,
      };
      const keyOf = (fingerprint: string) =>
        sha256Hex(canonicalJson(['decompose/1', fingerprint, painting.id, maxMapPixels(), spec]));
      const early = host.info && keyOf(host.info.fingerprint);
      const hit = early ? decompositions.get(early) : undefined;
      if (hit) return { ...hit.json, cached: true };
      return once(early, async () => {
        const { result, model } = await diagnose<DecomposeOutput>({
          op: 'decompose',
          image: named(painting),
          ...spec,
        });
        const id = keyOf(model.fingerprint);
        const json: Decomposition = { ...result.json, id, paintingId: painting.id, cached: false, model };
        decompositions.set(id, { json, maps: result.maps });
        return json;
      });
    },
  );

  const requireDecomposition = (id: string) => {
    const d = decompositions.get(id);
    if (!d)
      throw new HttpError(
        404,
        `decomposition ${id} is not in the server's memory (it keeps the last ${KEEP.decompositions}); POST /api/paintings/{id}/decompose again`,
      );
    return d;
  };
  const checkDirection = (d: Decomposition, k: number) => {
    if (k >= d.directions.length)
      throw new HttpError(
        400,
        `direction ${k} is out of range: decomposition ${d.id} has ${d.directions.length} direction(s) (0..${d.directions.length - 1})`,
      );
  };

  app.get(
    '/api/decompositions/:id',
    {
      schema: {
        summary: 'a decomposition computed recently (kept in memory)',
        tags: ['diagnostics'],
        params: RESULT_PARAMS,
        response: withErrors({ 200: DECOMPOSITION }, 404),
      },
    },
    async (req) => ({ ...requireDecomposition(req.params.id).json, cached: true }),
  );

  app.get(
    '/api/decompositions/:id/heads.npy',
    {
      schema: {
        summary: "every head's patch map of one direction: float32 [layers, heads, grid, grid]",
        tags: ['diagnostics'],
        params: RESULT_PARAMS,
        querystring: DECOMPOSITION_HEADS_QUERY,
        response: withErrors({ 200: binary('float32 .npy [L, H, G, G]', 'application/octet-stream') }, 404),
      },
    },
    async (req, reply) => {
      const { json, maps } = requireDecomposition(req.params.id);
      const k = req.query.direction;
      checkDirection(json, k);
      const { layers: L, heads: H, grid: G } = json;
      const n = L * H * G * G;
      reply.type('application/octet-stream');
      reply.header('content-disposition', `attachment; filename="decomposition-d${k}-heads.npy"`);
      return reply.send(Buffer.from(encodeNpy(maps.subarray(k * n, (k + 1) * n), [L, H, G, G])));
    },
  );

  app.get(
    '/api/decompositions/:id/map.npy',
    {
      schema: {
        summary:
          "one head's patch map (or a layer's heads, or all heads, summed) of one direction: float32 [grid, grid]",
        tags: ['diagnostics'],
        params: RESULT_PARAMS,
        querystring: DECOMPOSITION_MAP_QUERY,
        response: withErrors({ 200: binary('float32 .npy [G, G]', 'application/octet-stream') }, 404),
      },
    },
    async (req, reply) => {
      const { json, maps } = requireDecomposition(req.params.id);
      const { direction: k, layer, head } = req.query;
      checkDirection(json, k);
      const { layers: L, heads: H, grid: G } = json;
      const pick = (v: string, count: number, name: string): number[] => {
        if (v === 'all') return Array.from({ length: count }, (_, i) => i);
        const i = Number(v);
        if (i >= count) throw new HttpError(400, `${name} ${i} is out of range (0..${count - 1}, or all)`);
        return [i];
      };
      const layers = pick(layer, L, 'layer');
      const heads = pick(head, H, 'head');
      const out = new Float32Array(G * G);
      for (const l of layers)
        for (const h of heads) {
          const off = ((k * L + l) * H + h) * G * G;
          for (let i = 0; i < G * G; i++) out[i] += maps[off + i];
        }
      reply.type('application/octet-stream');
      reply.header(
        'content-disposition',
        `attachment; filename="decomposition-d${k}-L${layer}-H${head}.npy"`,
      );
      return reply.send(Buffer.from(encodeNpy(out, [G, G])));
    },
  );

  // ---- steering

  app.post(
    '/api/paintings/:id/steer',
    {
      schema: {
        summary:
          "push a painting along CLIP's gradient under an L∞ budget: the score and every dimension's answer before and after",
        tags: ['diagnostics'],
        params: PAINTING_PARAMS,
        body: STEER_REQUEST,
        response: withErrors({ 200: STEER_RESULT }, 404, 503),
      },
    },
    async (req) => {
      const painting = requirePainting(ws, req.params.id);
      const b = req.body;
      if (b.away !== undefined && b.labels !== undefined)
        throw new HttpError(400, 'give "away" or "labels", not both');
      if (b.labels && !b.labels.includes(b.toward))
        throw new HttpError(400, `labels must contain the toward prompt ${JSON.stringify(b.toward)}`);
      const { suiteNames, dims } = await dimensionsOf(b.suites, b.dimensions);
      requireModel();
      const spec = {
        toward: b.toward,
        away: b.away,
        labels: b.labels,
        epsilon: b.epsilon / 255,
        steps: b.steps,
        stepFraction: b.stepFraction,
        topK: b.topK,
      };
      const keyOf = (fingerprint: string) =>
        sha256Hex(
          canonicalJson([
            'steer/1',
            fingerprint,
            painting.id,
            maxMapPixels(),
            spec,
            suiteNames,
            dims.map((d) => ({ ...d })),
          ]),
        );
      const early = host.info && keyOf(host.info.fingerprint);
      const hit = early ? steers.get(early) : undefined;
      if (hit) return { ...hit.json, cached: true };
      return once(early, async () => {
        const { result, model } = await diagnose<SteerOutput>({
          op: 'steer',
          image: named(painting),
          dimensions: dims,
          ...spec,
        });
        const id = keyOf(model.fingerprint);
        const files = Object.fromEntries(
          STEER_FILES.map((f) => [f, `/api/steers/${id}/${f}`]),
        ) as SteerResult['files'];
        const json: SteerResult = {
          ...result.json,
          id,
          paintingId: painting.id,
          cached: false,
          model,
          files,
        };
        steers.set(id, { json, files: result.files });
        return json;
      });
    },
  );

  app.get(
    '/api/steers/:id/:file',
    {
      schema: {
        summary: 'an image (or the perturbation) of a steering run computed recently',
        tags: ['diagnostics'],
        params: STEER_FILE_PARAMS,
        response: withErrors(
          {
            200: binary(
              'PNG images; perturbation.npy: float32 [3, S, S]',
              'image/png',
              'application/octet-stream',
            ),
          },
          404,
        ),
      },
    },
    async (req, reply) => {
      const { id, file } = req.params;
      const s = steers.get(id);
      if (!s)
        throw new HttpError(
          404,
          `steering run ${id} is not in the server's memory (it keeps the last ${KEEP.steers}); POST /api/paintings/{id}/steer again`,
        );
      reply.type(file.endsWith('.png') ? 'image/png' : 'application/octet-stream');
      if (file.endsWith('.npy')) reply.header('content-disposition', `attachment; filename="steer-${file}"`);
      return reply.send(Buffer.from(s.files[file]));
    },
  );

  // ---- tasks over several paintings

  const paintingsOf = (ids: string[]) => ids.map((id) => requirePainting(ws, id));

  /** Forgets the oldest finished tasks beyond the limit. */
  const prune = () => {
    const finished = [...tasks.values()].filter((t) => t.task.finishedAt !== null);
    for (const t of finished.slice(0, Math.max(0, finished.length - KEEP.tasks))) tasks.delete(t.task.id);
  };

  const createTask = (
    kind: DiagnosticsTask['kind'],
    work: WorkerTask,
    paintings: number,
  ): DiagnosticsTask => {
    requireModel();
    const task: DiagnosticsTask = {
      id: randomUUID(),
      kind,
      state: 'queued',
      progress: { done: 0, total: paintings },
      paintings,
      createdAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      model: null,
    };
    tasks.set(task.id, { task, work, cancelled: false });
    pending.push(task.id);
    prune();
    setImmediate(() => void pump());
    return task;
  };

  async function pump(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (pending.length && !closed) await runTask(pending.shift() as string);
    } finally {
      running = false;
    }
  }

  async function runTask(id: string): Promise<void> {
    const rec = tasks.get(id);
    if (rec?.task.state !== 'queued') return;
    const t = rec.task;
    const finish = (state: DiagnosticsTask['state'], error: string | null = null) => {
      if (t.finishedAt !== null) return; // cancelled meanwhile
      t.state = state;
      t.error = error;
      t.finishedAt = new Date().toISOString();
    };
    for (;;) {
      if (closed) return;
      if (rec.cancelled) return finish('cancelled', 'cancelled by request');
      try {
        // a short wait at a time: a cancel while waiting for a worker is seen between tries
        const { result, model } = await host.diagnostics<HeadRolesResult | RobustnessResult>(
          { maxMapPixels: maxMapPixels(), task: rec.work },
          {
            waitMs: 1000,
            job: {
              id,
              // the worker reports progress from its start (0 done): the task is running from then on
              onProgress: (done, total) => {
                if (t.state === 'queued') t.state = 'running';
                t.progress = { done, total };
                if (rec.cancelled) void host.cancel(id);
              },
            },
          },
        );
        t.model = { id: model.id, fingerprint: model.fingerprint };
        if (t.kind === 'head-roles') t.headRoles = result as HeadRolesResult;
        else t.robustness = result as RobustnessResult;
        t.progress = { done: t.paintings, total: t.paintings };
        return finish('done');
      } catch (e) {
        if (e instanceof ModelBusyError) {
          await sleep(250);
          continue;
        }
        if (e instanceof CancelledError || rec.cancelled) return finish('cancelled', 'cancelled by request');
        if (e instanceof ModelUnavailableError) return finish('failed', noModelMessage(host));
        return finish('failed', publicMessage((e as Error).message));
      } finally {
        prune();
      }
    }
  }

  const requireTask = (id: string) => {
    const t = tasks.get(id);
    if (!t)
      throw new HttpError(
        404,
        `diagnostics task ${id} not found (the server keeps tasks in memory: the last ${KEEP.tasks} finished ones)`,
      );
    return t;
  };

  app.post(
    '/api/decompose/heads',
    {
      schema: {
        summary:
          'start a task naming what each head of the last layers does over a set of paintings (TextSpan over a vocabulary)',
        tags: ['diagnostics'],
        body: HEAD_ROLES_REQUEST,
        response: withErrors({ 202: DIAGNOSTICS_TASK }, 404, 503),
      },
    },
    async (req, reply) => {
      const b = req.body;
      const paintings = paintingsOf(b.paintingIds);
      if (b.vocabulary !== undefined) {
        try {
          parseVocabulary(b.vocabulary, 'vocabulary');
        } catch (e) {
          throw new HttpError(400, (e as Error).message);
        }
      }
      const task = createTask(
        'head-roles',
        {
          op: 'headRoles',
          images: paintings.map(named),
          layers: b.layers,
          lastLayers: b.lastLayers,
          textsPerHead: b.textsPerHead,
          rank: b.rank,
          vocabulary: b.vocabulary,
        },
        paintings.length,
      );
      reply.code(202);
      return task;
    },
  );

  app.post(
    '/api/steer/robustness',
    {
      schema: {
        summary:
          "start a task finding, per painting and dimension, the smallest budget of a ladder that flips CLIP's answer",
        tags: ['diagnostics'],
        body: ROBUSTNESS_REQUEST,
        response: withErrors({ 202: DIAGNOSTICS_TASK }, 404, 503),
      },
    },
    async (req, reply) => {
      const b = req.body;
      const paintings = paintingsOf(b.paintingIds);
      const { dims } = await dimensionsOf(b.suites, b.dimensions);
      if (dims.length > 8)
        throw new HttpError(400, `dimensions: ${dims.length} dimensions selected; a task takes at most 8`);
      const task = createTask(
        'robustness',
        {
          op: 'robustness',
          images: paintings.map(named),
          dimensions: dims,
          epsilons: [...new Set(b.epsilons)].sort((x, y) => x - y).map((e) => e / 255),
          steps: b.steps,
          stepFraction: b.stepFraction,
        },
        paintings.length,
      );
      reply.code(202);
      return task;
    },
  );

  app.get(
    '/api/diagnostics/tasks',
    {
      schema: {
        summary: 'diagnostics tasks kept in memory, newest first (without their results)',
        tags: ['diagnostics'],
        querystring: TASK_LIST_QUERY,
        response: withErrors({ 200: Type.Array(DIAGNOSTICS_TASK) }),
      },
    },
    async (req) =>
      [...tasks.values()]
        .map((r) => r.task)
        .filter((t) => !req.query.kind || t.kind === req.query.kind)
        .reverse()
        .map(({ headRoles: _h, robustness: _r, ...t }) => t),
  );

  app.get(
    '/api/diagnostics/tasks/:id',
    {
      schema: {
        summary: 'a diagnostics task: state, progress (paintings done) and, when done, its result',
        tags: ['diagnostics'],
        params: UUID_PARAMS,
        response: withErrors({ 200: DIAGNOSTICS_TASK }, 404),
      },
    },
    async (req) => requireTask(req.params.id).task,
  );

  app.post(
    '/api/diagnostics/tasks/:id/cancel',
    {
      schema: {
        summary: 'cancel a queued or running diagnostics task',
        tags: ['diagnostics'],
        params: UUID_PARAMS,
        response: withErrors({ 200: DIAGNOSTICS_TASK }, 404, 409),
      },
    },
    async (req) => {
      const rec = requireTask(req.params.id);
      const t = rec.task;
      if (t.finishedAt !== null) throw new HttpError(409, `task ${t.id} has already finished (${t.state})`);
      rec.cancelled = true;
      const i = pending.indexOf(t.id);
      if (i >= 0) pending.splice(i, 1);
      // running, or waiting for a worker: its worker is stopped now, or at its first progress report
      else await host.cancel(t.id);
      if (t.finishedAt === null) {
        t.state = 'cancelled';
        t.error = 'cancelled by request';
        t.finishedAt = new Date().toISOString();
      }
      return t;
    },
  );
}
