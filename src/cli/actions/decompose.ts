/**
 * The work of `artprobe decompose` and `artprobe decompose heads` (options are declared in
 * `../commands/decompose.ts`). The decomposition runs on the TF.js reference port (it is a forward-only
 * analysis that needs every block's parameters), so the model is always loaded with the tfjs engine.
 *
 * decomposition.json: `{"model", "definition", "directions": [{"label", "kind", "texts"}], "images": [{"image",
 * "embedding", "terms": [{"kind", "layer", "head" | "mlp" | "embed", "contribution", "score"}],
 * "reconstruction_error", "by_layer", "heads", "maps", …}]}`; heads.json: `{"model", "vocabulary", "images",
 * "layers", "heads": [{"layer", "head", "variance_share", "descriptions": [{"text", "category",
 * "variance_explained", "gain"}]}]}`.
 *
 * @example
 * await runDecompose({ model: 'M', image: ['a.png'], text: ['a red circle'], view: 'crop', topHeads: 6,
 *   opacity: 0.6, out: 'out' });
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { loadClip } from '../../core/clip.ts';
import { ClipDecomposer } from '../../decompose/decompose.ts';
import { textDirections } from '../../decompose/directions.ts';
import { headRoles, listImages } from '../../decompose/heads.ts';
import {
  DECOMPOSE_VIEWS,
  type DecomposeView,
  type DecompositionJson,
  decomposePainting,
  writeDecomposition,
} from '../../decompose/report.ts';
import { DEFAULT_VOCABULARY, loadVocabulary } from '../../decompose/vocabulary.ts';
import { formatTable } from '../../probe/report.ts';

/** Options of `artprobe decompose`, as commander parses them. */
export interface DecomposeCliOptions {
  model: string;
  image?: string[];
  text: string[];
  versusRest?: boolean;
  view: string;
  topHeads: number;
  opacity: number;
  out: string;
  json?: boolean;
}

/** Options of `artprobe decompose heads` (with --model, --out and --json from decompose). */
export interface HeadsCliOptions {
  model: string;
  out: string;
  json?: boolean;
  images: string;
  vocabulary?: string;
  layers?: number[];
  lastLayers: number;
  textsPerHead: number;
  rank: number;
  limit?: number;
  quiet?: boolean;
}

/** A short text of what the numbers mean, written into the JSON for readers and UIs. */
export const DECOMPOSITION_DEFINITION =
  'embedding = Σ_terms P(γ ⊙ (c − mean c)/σ) + P β with σ = sqrt(var(z) + eps) of the final class token z ' +
  '(ln_post with its per-image scale fixed, as in Gandelsman et al. 2024); terms: embed (class token after ' +
  'ln_pre), head (an attention head at the class token, a sum over image tokens), attn_bias, mlp, ln_bias; ' +
  'score = ⟨contribution, direction⟩; maps: each patch token’s part of a head’s score (the class token’s part is ' +
  'cls_token).';

/**
 * Runs `artprobe decompose`.
 *
 * @example
 * await runDecompose(options);
 */
export async function runDecompose(o: DecomposeCliOptions): Promise<void> {
  if (!o.image?.length)
    throw new Error('decompose: give --image FILE... (or use `decompose heads --images DIR`)');
  if (!(DECOMPOSE_VIEWS as readonly string[]).includes(o.view)) {
    throw new Error(`--view must be one of ${DECOMPOSE_VIEWS.join(', ')}, got "${o.view}"`);
  }
  if (!(o.opacity >= 0 && o.opacity <= 1)) throw new Error(`--opacity must be in [0, 1], got ${o.opacity}`);
  const clip = await loadClip(o.model, { engine: 'tfjs' });
  const decomposer = await ClipDecomposer.forClip(clip);
  try {
    const directions = await textDirections(clip, o.text, { versusRest: o.versusRest });
    const images: DecompositionJson[] = [];
    for (const image of o.image) {
      const res = await decomposePainting(clip, decomposer, image, directions, {
        view: o.view as DecomposeView,
      });
      images.push(
        await writeDecomposition(o.out, clip.id, res, directions, {
          topHeads: o.topHeads,
          opacity: o.opacity,
          engine: `${clip.engine.description} (decomposition in float64)`,
        }),
      );
    }
    const json = {
      model: clip.id,
      definition: DECOMPOSITION_DEFINITION,
      directions: directions.map((d) => ({ label: d.label, kind: d.kind, texts: d.texts })),
      images,
    };
    const text = `${JSON.stringify(json, null, 2)}\n`;
    await mkdir(o.out, { recursive: true });
    await writeFile(join(o.out, 'decomposition.json'), text);
    if (o.json) {
      process.stdout.write(text);
      return;
    }
    for (const im of images) {
      process.stdout.write(
        `${im.image}: ${im.terms.length} terms, reconstruction error ${im.reconstruction_error.toExponential(2)}\n`,
      );
      for (const d of directions) {
        const top = im.heads[d.label].slice(0, 5);
        process.stdout.write(
          `\n${d.label}: total ${im.scores[d.label].toFixed(4)}\n${formatTable(
            ['layer', 'heads', 'mlp', 'attn bias'],
            im.by_layer[d.label].heads.map((h, l) => [
              l,
              h,
              im.by_layer[d.label].mlp[l],
              im.by_layer[d.label].attention_bias[l],
            ]),
          )}\ntop heads: ${top.map((h) => `L${h.layer}H${h.head} ${h.score.toFixed(4)}`).join(', ')}\n`,
        );
      }
    }
    process.stdout.write(`\nwrote ${join(o.out, 'decomposition.json')} and the maps (manifest.json)\n`);
  } finally {
    decomposer.dispose();
    clip.dispose();
  }
}

/**
 * Runs `artprobe decompose heads`.
 *
 * @example
 * await runDecomposeHeads({ model: 'M', out: 'out', images: 'dir', lastLayers: 4, textsPerHead: 5, rank: 80 });
 */
export async function runDecomposeHeads(o: HeadsCliOptions): Promise<void> {
  let files = listImages(o.images);
  if (o.limit !== undefined) files = files.slice(0, o.limit);
  const vocabulary = await loadVocabulary(o.vocabulary ?? DEFAULT_VOCABULARY);
  const clip = await loadClip(o.model, { engine: 'tfjs' });
  const decomposer = await ClipDecomposer.forClip(clip);
  const bar =
    process.stderr.isTTY && !o.quiet
      ? new cliProgress.SingleBar(
          { format: 'decompose heads |{bar}| {value}/{total} images', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  try {
    bar?.start(files.length, 0);
    const res = await headRoles(clip, decomposer, files, vocabulary, {
      layers: o.layers,
      lastLayers: o.lastLayers,
      iterations: o.textsPerHead,
      rank: o.rank,
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    const json = {
      model: clip.id,
      vocabulary: {
        file: vocabulary.source,
        descriptions: vocabulary.entries.length,
        categories: vocabulary.categories,
      },
      images: { folder: o.images, count: res.images },
      layers: res.layers,
      texts_per_head: res.iterations,
      rank: res.rank,
      embedding_variance: res.embeddingVariance,
      reconstruction_error: res.reconstructionError,
      heads: res.heads.map((h) => ({
        layer: h.layer,
        head: h.head,
        variance: h.variance,
        variance_share: h.varianceShare,
        mean_norm: h.meanNorm,
        explained: h.picks.length ? h.picks[h.picks.length - 1].varianceExplained : 0,
        descriptions: h.picks.map((p) => ({
          text: p.text,
          category: p.category,
          variance_explained: p.varianceExplained,
          gain: p.gain,
        })),
      })),
    };
    await mkdir(o.out, { recursive: true });
    const text = `${JSON.stringify(json, null, 2)}\n`;
    await writeFile(join(o.out, 'heads.json'), text);
    if (o.json) {
      process.stdout.write(text);
      return;
    }
    process.stdout.write(
      `${formatTable(
        ['layer', 'head', 'var share', 'explained', 'descriptions (cumulative variance explained)'],
        json.heads.map((h) => [
          h.layer,
          h.head,
          h.variance_share,
          h.explained,
          h.descriptions.map((d) => `${d.text} (${d.variance_explained.toFixed(2)})`).join('; '),
        ]),
      )}\n\nwrote ${join(o.out, 'heads.json')}\n`,
    );
  } finally {
    bar?.stop();
    decomposer.dispose();
    clip.dispose();
  }
}
