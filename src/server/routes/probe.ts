/**
 * Zero-shot probing of one painting over the API: `POST /api/paintings/:id/probe` runs `runZeroShot` in a model
 * worker on the chosen suites (default or workspace suites, by name) and dimensions, and answers the ranked
 * labels per dimension with each answer's `explain` target (POST it to /api/jobs for the heatmap). Results are
 * cached in the workspace under sha256(model fingerprint, painting sha256, suite names, the selected
 * dimensions' resolved labels and prompts, topK), so a repeat is instant and editing a workspace suite makes
 * a new key. Suite and dimension lists are canonical: deduplicated, suites sorted, dimensions in suite order.
 * A busy model is waited for up to `probeWaitMs`, then 503 with Retry-After.
 *
 * @example
 * POST /api/paintings/<sha256>/probe { "suites": ["style"], "topK": 3 }
 * -> 200 { cached: false, images: [{ answers: { style: { ranked: [{ label, probability, … }], explain } } }] }
 */
import type { FastifyRequest } from 'fastify';
import { listDefaultSuites, type Suite, type SuiteDimension, selectDimensions } from '../../probe/suites.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { canonicalJson, HttpError, noModelMessage } from '../jobs.ts';
import { ModelBusyError, ModelUnavailableError } from '../model-host.ts';
import { PAINTING_PARAMS, PROBE_REQUEST, PROBE_RESULT, type ProbeResult, withErrors } from '../schemas.ts';
import { sha256Hex } from '../workspace.ts';
import { requirePainting } from './paintings.ts';
import { listWorkspaceSuites, loadNamedSuite } from './suites.ts';

/** A probe result as stored in the workspace cache (and answered, with `cached`). */
type StoredProbe = Omit<ProbeResult, 'cached'>;

/**
 * A stored probe result, typed: results are runZeroShot's (whose answers always explain with a label target),
 * read back from the workspace cache as JSON.
 */
const asStoredProbe = (result: object): StoredProbe => result as StoredProbe;

/** A POST without a body means "all defaults". */
async function emptyBodyIsDefaults(req: FastifyRequest): Promise<void> {
  if (req.body === undefined) req.body = {};
}

/** Loads suites by name (sources rewritten to `<origin>:<name>`, no server paths); 400 names unknown ones. */
export async function loadSuites(dir: string, names: string[]): Promise<Suite[]> {
  const suites: Suite[] = [];
  for (const name of names) {
    let loaded: Awaited<ReturnType<typeof loadNamedSuite>>;
    try {
      loaded = await loadNamedSuite(dir, name);
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 404) {
        const known = [...listDefaultSuites(), ...(await listWorkspaceSuites(dir))];
        throw new HttpError(400, `unknown suite "${name}" (known suites: ${known.join(', ') || 'none'})`);
      }
      throw new HttpError(400, `suite ${name} cannot be used: ${(e as Error).message}`);
    }
    const source = `${loaded.origin}:${name}`;
    suites.push({
      ...loaded.suite,
      source,
      dimensions: loaded.suite.dimensions.map((d) => ({ ...d, source })),
    });
  }
  const seen = new Map<string, string>();
  for (const d of suites.flatMap((s) => s.dimensions)) {
    const prev = seen.get(d.name);
    if (prev)
      throw new HttpError(
        400,
        `dimension "${d.name}" is defined by both suite ${prev} and suite ${d.suite}; probe them separately`,
      );
    seen.set(d.name, d.suite);
  }
  return suites;
}

/** The selected dimensions in canonical (suite, then file) order; 400 names an unknown one. */
export function pickDimensions(suites: Suite[], names: string[], suitesGiven: boolean): SuiteDimension[] {
  let picked: SuiteDimension[];
  try {
    picked = selectDimensions(suites, names);
  } catch (e) {
    const hint = suitesGiven ? '' : '; dimensions of workspace suites need the suite in "suites"';
    throw new HttpError(400, `${(e as Error).message}${hint}`);
  }
  const all = suites.flatMap((s) => s.dimensions);
  return [...picked].sort((a, b) => all.indexOf(a) - all.indexOf(b));
}

export function registerProbeRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws, host } = ctx;
  const suitesDir = ws.dir('suites');
  /** Probes being computed, by cache key: an identical request waits for the same result. */
  const inflight = new Map<string, Promise<StoredProbe>>();

  app.post(
    '/api/paintings/:id/probe',
    {
      schema: {
        summary:
          'zero-shot probe of a painting: ranked labels per suite dimension, each with the target that explains it',
        tags: ['probes'],
        params: PAINTING_PARAMS,
        body: PROBE_REQUEST,
        response: withErrors({ 200: PROBE_RESULT }, 404, 503),
      },
      preValidation: emptyBodyIsDefaults,
    },
    async (req) => {
      const { id } = req.params;
      const body = req.body;
      const unavailable = () =>
        new HttpError(503, `${noModelMessage(host)}${ctx.opts.modelHint ? ` (${ctx.opts.modelHint})` : ''}`);
      if (host.state === 'none' || host.state === 'error') throw unavailable();
      const painting = requirePainting(ws, id);
      const suitesGiven = !!body.suites?.length;
      const suiteNames = [...new Set(suitesGiven ? body.suites : listDefaultSuites())].sort();
      if (suiteNames.length === 0)
        throw new HttpError(400, 'no suites given and no default suites installed');
      const suites = await loadSuites(suitesDir, suiteNames);
      const dims = pickDimensions(suites, body.dimensions ?? [], suitesGiven);
      const { topK } = body;
      const keyOf = (fingerprint: string) =>
        sha256Hex(
          canonicalJson([
            'zero-shot/1',
            fingerprint,
            painting.id,
            suiteNames,
            dims.map((d) => ({ ...d })),
            topK,
          ]),
        );

      // answered from the cache when the loaded model already probed this
      if (host.state === 'ready' && host.info) {
        const key = keyOf(host.info.fingerprint);
        const hit = ws.getProbe(key);
        if (hit) return { ...asStoredProbe(hit.result), createdAt: hit.createdAt, cached: true };
        const running = inflight.get(key);
        if (running) return { ...(await running), cached: false };
      }

      const run = (async (): Promise<StoredProbe> => {
        let out: Awaited<ReturnType<typeof host.zeroShot>>;
        try {
          out = await host.zeroShot(
            {
              image: ws.paintingFile(painting),
              imageName: painting.id,
              suites,
              dimensions: dims.map((d) => d.name),
              topK,
            },
            { waitMs: ctx.opts.probeWaitMs },
          );
        } catch (e) {
          if (e instanceof ModelBusyError) throw new HttpError(503, e.message, { 'retry-after': '5' });
          if (e instanceof ModelUnavailableError) throw unavailable();
          throw e;
        }
        // keyed by the model that actually ran (the model may have been switched while this waited)
        const cacheKey = keyOf(out.model.fingerprint);
        const result = asStoredProbe({
          paintingId: painting.id,
          cacheKey,
          modelFingerprint: out.model.fingerprint,
          suites: suiteNames,
          ...out.result,
        });
        if (!ws.getPainting(painting.id)) return { ...result, createdAt: new Date().toISOString() };
        const row = ws.putProbe({
          cacheKey,
          paintingId: painting.id,
          modelFingerprint: out.model.fingerprint,
          result,
        });
        return { ...result, createdAt: row.createdAt };
      })();
      const key = host.info ? keyOf(host.info.fingerprint) : undefined;
      if (key) inflight.set(key, run);
      try {
        return { ...(await run), cached: false };
      } finally {
        if (key && inflight.get(key) === run) inflight.delete(key);
      }
    },
  );
}
