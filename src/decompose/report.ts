/**
 * Decomposition of paintings as files: per image and direction the token maps of every head (`[L, H, G, G]`
 * float32 `.npy`), and for the total map (all heads of all layers), each layer's map and the top heads (by
 * |score|) a map in the same layout as `artprobe explain` (`.npy` on the grid, `_painting.npy` in painting
 * pixels, a PNG overlay and an entry in `manifest.json` with method `decompose`). The JSON of each image is
 * `{"embedding", "terms": [{"kind", "layer", "head" | "mlp" | "embed", "contribution", "score"}],
 * "reconstruction_error", …}` (see {@link decompositionJson}).
 *
 * @example
 * const res = await decomposePainting(clip, dec, 'vermeer.jpg', dirs, { view: 'crop' });
 * const json = await writeDecomposition('out', clip.id, res, dirs, { topHeads: 6 });
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { type Manifest, type ManifestEntry, readManifest, slugify } from '../attribution/manifest.ts';
import { renderOverlay } from '../attribution/overlay.ts';
import type { TargetSpec } from '../attribution/target.ts';
import type { ViewTransform } from '../attribution/types.ts';
import { mapToPainting, prepareView } from '../attribution/views.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import { encodeNpy } from '../core/npy.ts';
import type { PreprocessConfig } from '../core/preprocess.ts';
import {
  type ClipDecomposer,
  headTokenMap,
  type ImageDecomposition,
  patchGrid,
  tokenMap,
} from './decompose.ts';
import type { DirectionInfo } from './directions.ts';

/** Views a decomposition supports: one model input per painting. */
export const DECOMPOSE_VIEWS = ['crop', 'pad'] as const;
export type DecomposeView = (typeof DECOMPOSE_VIEWS)[number];

export interface PaintingDecomposition {
  image: string;
  decoded: RgbImage;
  view: ViewTransform;
  decomposition: ImageDecomposition;
}

/**
 * Decodes a painting, prepares its model input (CLIP's centre crop, or the letterboxed painting) and decomposes it.
 *
 * @example
 * const r = await decomposePainting(clip, dec, 'a.jpg', dirs);
 */
export async function decomposePainting(
  clip: { preprocessor: { config: PreprocessConfig }; maxPixels: number },
  decomposer: ClipDecomposer,
  image: string,
  directions: DirectionInfo[],
  opts: { view?: DecomposeView } = {},
): Promise<PaintingDecomposition> {
  const view = opts.view ?? 'crop';
  if (!(DECOMPOSE_VIEWS as readonly string[]).includes(view)) {
    throw new Error(`decompose: --view must be one of ${DECOMPOSE_VIEWS.join(', ')}, got "${view}"`);
  }
  const decoded = await decodeImage(image, { maxPixels: clip.maxPixels });
  const prepared = prepareView(decoded, view, clip.preprocessor.config);
  const [decomposition] = await decomposer.decompose(prepared.inputs[0], 1, directions);
  return { image, decoded, view: prepared.transform, decomposition };
}

/** One written map (total, a layer, or a head) of one direction. */
export interface DecomposeMapJson {
  direction: string;
  layer: number | 'all';
  head: number | 'all';
  /** Σ of all token contributions (= the term's score, class token included). */
  score: number;
  /** The class token's own contribution (not on the grid). */
  cls_token: number;
  map: string;
  map_painting: string;
  overlay: string;
}

/** One term in the JSON output: `head` for heads, `mlp: true` for MLPs, `embed` naming the other terms. */
export interface TermJson {
  kind: string;
  layer: number | null;
  head?: number;
  mlp?: true;
  embed?: 'class_token' | 'attention_bias' | 'ln_post_bias';
  contribution: number[];
  score: Record<string, number>;
}

export interface DecompositionJson {
  image: string;
  view: string;
  painting_size: [number, number];
  grid: [number, number];
  /** The model's image embedding (projected, before normalisation). */
  embedding: number[];
  embedding_norm: number;
  /** ln_post's per-image scale. */
  sigma: number;
  /** ⟨embedding, direction⟩ per direction (= Σ of the terms' scores). */
  scores: Record<string, number>;
  terms: TermJson[];
  /** max |Σ term contributions − embedding|. */
  reconstruction_error: number;
  /** max |recomputed block output − the model's residual stream| at the class token. */
  stream_error: number;
  /** Per direction: scores by layer (heads summed, MLP, attention bias) plus the embed and ln_post terms. */
  by_layer: Record<
    string,
    { heads: number[]; mlp: number[]; attention_bias: number[]; embed: number; ln_post_bias: number }
  >;
  /** Per direction: every head's score and class-token part, by |score| descending. */
  heads: Record<string, { layer: number; head: number; score: number; cls_token: number }[]>;
  /** Per direction: the file with all head maps, float32 [L, H, G, G]. */
  head_maps: Record<string, string>;
  maps: DecomposeMapJson[];
}

const round = (x: number, digits = 7) => Number(x.toPrecision(digits));

/**
 * The JSON of one decomposition (without the map files).
 *
 * @example
 * decompositionJson(res).terms.find((t) => t.mlp && t.layer === 2);
 */
export function decompositionJson(res: PaintingDecomposition): DecompositionJson {
  const d = res.decomposition;
  const labels = d.directions;
  const scoreObj = (s: Float64Array) => Object.fromEntries(labels.map((l, k) => [l, round(s[k])]));
  const terms: TermJson[] = d.terms.map((t) => {
    const base = { kind: t.kind, layer: t.layer };
    const tag =
      t.kind === 'head'
        ? { head: t.head }
        : t.kind === 'mlp'
          ? { mlp: true as const }
          : {
              embed: (
                { embed: 'class_token', attn_bias: 'attention_bias', ln_bias: 'ln_post_bias' } as const
              )[t.kind],
            };
    return {
      ...base,
      ...tag,
      contribution: Array.from(t.contribution, (x) => round(x)),
      score: scoreObj(t.scores),
    };
  });
  const byLayer: DecompositionJson['by_layer'] = {};
  const heads: DecompositionJson['heads'] = {};
  labels.forEach((label, k) => {
    const z = () => new Array(d.layers).fill(0) as number[];
    const entry = { heads: z(), mlp: z(), attention_bias: z(), embed: 0, ln_post_bias: 0 };
    const list: DecompositionJson['heads'][string] = [];
    for (const t of d.terms) {
      const s = t.scores[k];
      if (t.kind === 'head' && t.layer !== null && t.head !== undefined) {
        entry.heads[t.layer] += s;
        list.push({
          layer: t.layer,
          head: t.head,
          score: round(s),
          cls_token: round(headTokenMap(d, t.layer, t.head, k)[0]),
        });
      } else if (t.kind === 'mlp' && t.layer !== null) entry.mlp[t.layer] += s;
      else if (t.kind === 'attn_bias' && t.layer !== null) entry.attention_bias[t.layer] += s;
      else if (t.kind === 'embed') entry.embed += s;
      else if (t.kind === 'ln_bias') entry.ln_post_bias += s;
    }
    byLayer[label] = {
      heads: entry.heads.map((x) => round(x)),
      mlp: entry.mlp.map((x) => round(x)),
      attention_bias: entry.attention_bias.map((x) => round(x)),
      embed: round(entry.embed),
      ln_post_bias: round(entry.ln_post_bias),
    };
    heads[label] = list.sort((a, b) => Math.abs(b.score) - Math.abs(a.score));
  });
  const norm = Math.hypot(...d.embedding);
  return {
    image: res.image,
    view: res.view.kind,
    painting_size: [res.view.painting.height, res.view.painting.width],
    grid: [d.grid, d.grid],
    embedding: Array.from(d.embedding, (x) => round(x)),
    embedding_norm: round(norm),
    sigma: round(d.sigma),
    scores: scoreObj(d.totals),
    terms,
    reconstruction_error: d.reconstructionError,
    stream_error: d.streamError,
    by_layer: byLayer,
    heads,
    head_maps: {},
    maps: [],
  };
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

function targetSpecOf(dir: DirectionInfo): TargetSpec {
  return dir.kind === 'contrast'
    ? { kind: 'contrast', a: dir.texts[0], b: dir.texts[1] }
    : { kind: 'prompt', prompt: dir.texts[0] };
}

/**
 * Writes the maps of one decomposed painting into `dir`, merges their entries into `manifest.json` and returns
 * the image's JSON with the file names filled in.
 *
 * @example
 * const json = await writeDecomposition('out', 'tiny-b32', res, dirs, { topHeads: 4, engine: 'tfjs (wasm)' });
 */
export async function writeDecomposition(
  dir: string,
  model: string,
  res: PaintingDecomposition,
  directions: DirectionInfo[],
  opts: { topHeads?: number; opacity?: number; engine?: string } = {},
): Promise<DecompositionJson> {
  await mkdir(dir, { recursive: true });
  const json = decompositionJson(res);
  const d = res.decomposition;
  const G = d.grid;
  const { width: PW, height: PH } = res.view.painting;
  const stem = slugify(basename(res.image, extname(res.image)), 60);
  const topHeads = opts.topHeads ?? 6;
  const entries: ManifestEntry[] = [];
  for (const [k, dirInfo] of directions.entries()) {
    const label = dirInfo.label;
    const dslug = `d${k}-${slugify(label, 32)}`;
    // all head maps [L, H, G, G]
    const all = new Float32Array(d.layers * d.heads * G * G);
    for (let l = 0; l < d.layers; l++) {
      for (let h = 0; h < d.heads; h++)
        all.set(patchGrid(headTokenMap(d, l, h, k)), (l * d.heads + h) * G * G);
    }
    const headsFile = `${stem}__decompose__${dslug}__heads.npy`;
    await writeAtomic(join(dir, headsFile), encodeNpy(all, [d.layers, d.heads, G, G]));
    json.head_maps[label] = headsFile;
    const selections: { layer: number | 'all'; head: number | 'all'; tokens: Float64Array }[] = [
      { layer: 'all', head: 'all', tokens: tokenMap(d, k) },
      ...Array.from({ length: d.layers }, (_, l) => ({
        layer: l,
        head: 'all' as const,
        tokens: tokenMap(d, k, { layers: [l] }),
      })),
      ...json.heads[label]
        .slice(0, topHeads)
        .map((h) => ({ layer: h.layer, head: h.head, tokens: headTokenMap(d, h.layer, h.head, k) })),
    ];
    for (const s of selections) {
      const base = `${stem}__decompose__${dslug}__L${s.layer}-H${s.head}`;
      const grid = patchGrid(s.tokens);
      const painting = mapToPainting([{ values: grid, grid: { rows: G, cols: G } }], res.view);
      await writeAtomic(join(dir, `${base}.npy`), encodeNpy(grid, [G, G]));
      await writeAtomic(join(dir, `${base}_painting.npy`), encodeNpy(painting, [PH, PW]));
      await writeAtomic(
        join(dir, `${base}.png`),
        await renderOverlay(res.decoded, painting, { signed: true, opacity: opts.opacity }),
      );
      const score = s.tokens.reduce((a, x) => a + x, 0);
      json.maps.push({
        direction: label,
        layer: s.layer,
        head: s.head,
        score: round(score),
        cls_token: round(s.tokens[0]),
        map: `${base}.npy`,
        map_painting: `${base}_painting.npy`,
        overlay: `${base}.png`,
      });
      entries.push({
        image: res.image,
        method: 'decompose',
        target: label,
        target_spec: targetSpecOf(dirInfo),
        params: { layer: s.layer, head: s.head, direction: dirInfo.kind },
        score: round(score),
        grid: [G, G],
        map: `${base}.npy`,
        map_painting: `${base}_painting.npy`,
        overlay: `${base}.png`,
        signed: true,
        view: res.view.kind,
        tiles: 1,
        painting_size: [PH, PW],
        ...(opts.engine ? { engine: opts.engine } : {}),
        extras: { cls_token: round(s.tokens[0]) },
      });
    }
  }
  const previous = await readManifest(dir);
  const key = (x: ManifestEntry) => JSON.stringify([x.image, x.method, x.target, x.params]);
  const fresh = new Set(entries.map(key));
  const kept = (previous?.entries ?? []).filter((x) => !fresh.has(key(x)));
  const manifest: Manifest = { model, entries: [...kept, ...entries] };
  await writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return json;
}
