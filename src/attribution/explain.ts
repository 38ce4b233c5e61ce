/**
 * The explanation engine: one painting, several targets and methods, any view; every map ends in the
 * painting's own pixels. Text embeddings are computed once per prompt (cached by the Clip), and each method
 * handles all targets of an input together (batched gradients, one occlusion pass for all prompts).
 *
 * @example
 * const result = await explainImage(clip, {
 *   image: 'great-wave.jpg',
 *   targets: [{ kind: 'prompt', prompt: 'a wave' }],
 *   methods: [{ id: 'chefer-all' }, { id: 'occlusion', params: { fill: 'blurred' } }],
 *   view: 'pad',
 * });
 * result.entries[0].painting; // Float32Array [H, W]
 */

import type { Clip } from '../core/clip.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import { getMethod } from './registry.ts';
import { checkTarget, prepareTargets, type TargetSpec } from './target.ts';
import type { AttributionMap, MethodId, ViewTransform } from './types.ts';
import { mapToPainting, prepareView, VIEW_KINDS, type ViewKind } from './views.ts';

export interface MethodRequest {
  id: MethodId | string;
  params?: Record<string, unknown>;
}

export interface ExplainRequest {
  /** A file path, encoded bytes, or a decoded image. */
  image: string | Uint8Array | RgbImage;
  /** Name used in results (defaults to the path). */
  imageName?: string;
  targets: TargetSpec[];
  methods: MethodRequest[];
  view?: ViewKind;
  tileOverlap?: number;
}

export interface ExplainEntry {
  method: MethodId;
  target: TargetSpec;
  params: Record<string, unknown>;
  /** Target score on the model input (mean over tiles for the tiles view). */
  score: number;
  /** Per-input maps on their native grids (one per tile). */
  maps: AttributionMap[];
  /** The map in painting pixels [H, W] (NaN where no input covers the painting). */
  painting: Float32Array;
  signed: boolean;
}

export interface ExplainResult {
  image: string;
  /** The decoded painting (EXIF-oriented RGB). */
  decoded: RgbImage;
  view: ViewTransform;
  entries: ExplainEntry[];
  /** The engine that computed the maps (its description). */
  engine: string;
}

/** Checks a request before any work is done; errors name the problem. */
export function checkExplainRequest(req: ExplainRequest): void {
  if (!Array.isArray(req.targets) || req.targets.length === 0)
    throw new Error('explain: give at least one target (prompt, label or contrast)');
  req.targets.forEach(checkTarget);
  if (!Array.isArray(req.methods) || req.methods.length === 0)
    throw new Error('explain: give at least one method');
  for (const m of req.methods) getMethod(m.id).resolveParams(m.params ?? {});
  if (req.view !== undefined && !VIEW_KINDS.includes(req.view)) {
    throw new Error(`explain: unknown view "${req.view}" (choose ${VIEW_KINDS.join(', ')})`);
  }
}

/**
 * Explains one painting. `onProgress(done, total)` is called after each method × input.
 */
export async function explainImage(
  clip: Clip,
  req: ExplainRequest,
  onProgress?: (done: number, total: number, label: string) => void,
): Promise<ExplainResult> {
  checkExplainRequest(req);
  const decoded =
    typeof req.image === 'string' || req.image instanceof Uint8Array
      ? await decodeImage(req.image, { maxPixels: clip.maxPixels })
      : req.image;
  const name = req.imageName ?? (typeof req.image === 'string' ? req.image : 'image');
  const view = prepareView(decoded, req.view ?? 'crop', clip.preprocessor.config, {
    tileOverlap: req.tileOverlap,
  });
  const imageId = name;
  const modelId = clip.id;
  const targets = await prepareTargets(clip, req.targets);
  const entries: ExplainEntry[] = [];
  const total = req.methods.length * view.inputs.length;
  let done = 0;
  for (const m of req.methods) {
    const method = getMethod(m.id);
    const params = method.resolveParams(m.params ?? {});
    // perTile[tile][target]
    const perTile: AttributionMap[][] = [];
    for (let tile = 0; tile < view.inputs.length; tile++) {
      perTile.push(
        await method.attributeMany(
          {
            model: clip.engine,
            pixels: view.inputs[tile],
            modelId,
            imageId,
            view: view.transform,
            tile,
            normalisation: { mean: clip.preprocessor.config.mean, std: clip.preprocessor.config.std },
          },
          targets,
          params,
        ),
      );
      onProgress?.(++done, total, `${name} ${method.id}`);
    }
    targets.forEach((t, ti) => {
      const maps = perTile.map((row) => row[ti]);
      entries.push({
        method: method.id,
        target: t.spec,
        params: maps[0].params,
        score: maps.reduce((a, x) => a + x.score, 0) / maps.length,
        maps,
        painting: mapToPainting(maps, view.transform),
        signed: method.signed,
      });
    });
  }
  return { image: name, decoded, view: view.transform, entries, engine: clip.engine.description };
}
