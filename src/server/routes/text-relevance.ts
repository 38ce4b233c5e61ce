/**
 * Which words of a prompt make CLIP match it to a painting: `POST /api/paintings/:id/text-relevance` runs Chefer
 * et al.'s text-side relevance (`explainTextRelevance`) in a model worker, on the painting seen through the view
 * (the tiles view averages its tiles, as explanation scores do). A busy model is waited for up to `probeWaitMs`,
 * then 503 with Retry-After; no model: 503.
 *
 * @example
 * POST /api/paintings/<sha256>/text-relevance { "prompts": ["a red circle"], "view": "crop" }
 * -> 200 { paintingId, model: { id, fingerprint }, view: "crop", startLayer: 11,
 *          results: [{ prompt: "a red circle", score: 27.1, truncated: false,
 *                      tokens: [{ token: "a", value: 0.08 }, { token: "red", value: 0.51 }, { token: "circle", value: 0.41 }] }] }
 */
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError, noModelMessage } from '../jobs.ts';
import { ModelBusyError, ModelUnavailableError } from '../model-host.ts';
import { TEXT_RELEVANCE_REQUEST, TEXT_RELEVANCE_RESULT } from '../schemas/text-relevance.ts';
import { PAINTING_PARAMS, withErrors } from '../schemas.ts';
import { requirePainting } from './paintings.ts';

/**
 * Registers the text relevance route.
 *
 * @example
 * registerTextRelevanceRoutes(api, ctx);
 */
export function registerTextRelevanceRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws, host } = ctx;
  app.post(
    '/api/paintings/:id/text-relevance',
    {
      schema: {
        summary:
          "each prompt token's share of the prompt's relevance for a painting (Chefer et al., text side)",
        tags: ['explanations'],
        params: PAINTING_PARAMS,
        body: TEXT_RELEVANCE_REQUEST,
        response: withErrors({ 200: TEXT_RELEVANCE_RESULT }, 404, 503),
      },
    },
    async (req) => {
      const painting = requirePainting(ws, req.params.id);
      const { prompts, view, startLayer } = req.body;
      const unavailable = () =>
        new HttpError(503, `${noModelMessage(host)}${ctx.opts.modelHint ? ` (${ctx.opts.modelHint})` : ''}`);
      if (host.state === 'none' || host.state === 'error') throw unavailable();
      try {
        const { result, model } = await host.textRelevance(
          { image: ws.paintingFile(painting), imageName: painting.id, prompts, view, startLayer },
          { waitMs: ctx.opts.probeWaitMs },
        );
        return {
          paintingId: painting.id,
          model: { id: model.id, fingerprint: model.fingerprint },
          view,
          startLayer: result[0]?.startLayer ?? 0,
          results: result.map((r) => ({
            prompt: r.prompt,
            score: r.score,
            tokens: r.tokens,
            truncated: r.truncated,
          })),
        };
      } catch (e) {
        if (e instanceof ModelBusyError) throw new HttpError(503, e.message, { 'retry-after': '5' });
        if (e instanceof ModelUnavailableError) throw unavailable();
        if (/startLayer/.test((e as Error).message)) throw new HttpError(400, (e as Error).message);
        throw e;
      }
    },
  );
}
