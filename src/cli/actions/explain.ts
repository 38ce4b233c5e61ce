/**
 * The work of `artprobe explain` (options are declared in `../commands/explain.ts`): saliency maps for
 * paintings, written as .npy maps, PNG overlays and manifest.json. Before the model is loaded every option is
 * checked: methods and their parameters (a `--param` must name a method of `--method`), the view, and for the
 * tiles view the tile count of every image (read from its header) against `--max-tiles`. Prompts longer than
 * CLIP's context are reported once the tokenizer is loaded, before any map is computed. With `--text-relevance`,
 * the manifest entries of prompt targets also get `text_relevance: [{token, value}]` (each prompt token's share
 * of Chefer et al.'s text-side relevance for that painting, on the same view).
 *
 * @example
 * await runExplain({ model: 'M', image: ['a.png'], prompt: ['a red circle'], contrast: [], ensemble: [],
 *   method: 'chefer-all', view: 'crop', tileOverlap: 0.25, param: [], opacity: 0.6, out: 'out' });
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { type ExplainResult, explainImage } from '../../attribution/explain.ts';
import { type ManifestEntry, readManifest, writeExplanations } from '../../attribution/manifest.ts';
import { getMethod } from '../../attribution/registry.ts';
import type { TargetSpec } from '../../attribution/target.ts';
import { explainTextRelevance, type TokenRelevance } from '../../attribution/text-relevance.ts';
import { checkTileCount, DEFAULT_MAX_TILES, VIEW_KINDS, type ViewKind } from '../../attribution/views.ts';
import { type Clip, loadClip } from '../../core/clip.ts';
import { readImageInfo } from '../../core/image-decode.ts';
import { parseTargets } from '../commands/explain.ts';
import { checkPromptLengths, reportTruncatedPrompts } from './prompt-check.ts';

/** Options of `artprobe explain`, as commander parses them. */
export interface ExplainOptions {
  model: string;
  image: string[];
  prompt: string[];
  labels?: string;
  contrast: string[];
  ensemble: string[];
  method: string;
  view: string;
  tileOverlap: number;
  param: string[];
  opacity: number;
  out: string;
  quiet?: boolean;
  /** Most tiles per painting with the tiles view (default 64). */
  maxTiles?: number;
  /** Also the relevance of each prompt token (prompt targets), as `text_relevance` in the manifest entries. */
  textRelevance?: boolean;
}

/** A manifest entry with the token relevance of its prompt (`--text-relevance`). */
export type TextRelevanceEntry = ManifestEntry & { text_relevance?: TokenRelevance[] };

/**
 * Adds `text_relevance: [{token, value}]` (Chefer et al.'s text-side relevance, shares summing to 1) to the
 * manifest entries of this painting whose target is a prompt, computed on the same view as its maps; returns
 * how many prompts were explained.
 *
 * @example
 * await addTextRelevance(clip, 'out', result, 0.25);
 */
export async function addTextRelevance(
  clip: Clip,
  dir: string,
  result: ExplainResult,
  tileOverlap?: number,
): Promise<number> {
  const prompts = [
    ...new Set(result.entries.flatMap((e) => (e.target.kind === 'prompt' ? [e.target.prompt] : []))),
  ];
  if (prompts.length === 0) return 0;
  const relevance = await explainTextRelevance(clip, {
    image: result.decoded,
    prompts,
    view: result.view.kind,
    tileOverlap,
  });
  const byPrompt = new Map(relevance.map((r) => [r.prompt, r.tokens]));
  const manifest = await readManifest(dir);
  if (!manifest) throw new Error(`${dir}: manifest.json is missing after writing the maps`);
  for (const e of manifest.entries as TextRelevanceEntry[]) {
    const spec = e.target_spec;
    if (e.image === result.image && spec?.kind === 'prompt' && byPrompt.has(spec.prompt))
      e.text_relevance = byPrompt.get(spec.prompt);
  }
  const file = join(dir, 'manifest.json');
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, file);
  return prompts.length;
}

/**
 * Every text a target makes CLIP read (prompts, labels or their prompt ensembles, both sides of a contrast).
 *
 * @example
 * targetTexts({ kind: 'contrast', a: 'a cat', b: 'a dog' }); // ['a cat', 'a dog']
 */
export function targetTexts(t: TargetSpec): string[] {
  const o = t as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['prompt', 'a', 'b', 'label']) if (typeof o[k] === 'string') out.push(o[k] as string);
  for (const k of ['labels', 'prompts'])
    for (const v of Array.isArray(o[k]) ? (o[k] as unknown[]) : [])
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === 'string'));
  return out;
}

/**
 * Parses `--param method.key=value` options into per-method parameter objects (values as JSON when possible).
 *
 * @example
 * parseMethodParams(['integrated-gradients.steps=16']); // { 'integrated-gradients': { steps: 16 } }
 */
export function parseMethodParams(list: string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of list) {
    const m = /^([a-z-]+)\.([A-Za-z]+)=(.*)$/.exec(p);
    if (!m)
      throw new Error(
        `--param must look like method.name=value (e.g. integrated-gradients.steps=16), got "${p}"`,
      );
    let value: unknown = m[3];
    try {
      value = JSON.parse(m[3]);
    } catch {
      /* a bare string such as blurred */
    }
    getMethod(m[1]);
    out[m[1]] = { ...(out[m[1]] ?? {}), [m[2]]: value };
  }
  return out;
}

/**
 * Runs `artprobe explain`: checks the options, loads the model and writes the maps of every image.
 *
 * @example
 * await runExplain(options);
 */
export async function runExplain(o: ExplainOptions): Promise<void> {
  const methods = String(o.method)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (methods.length === 0) throw new Error('--method needs at least one method id');
  for (const id of methods) getMethod(id);
  const params = parseMethodParams(o.param);
  for (const id of Object.keys(params))
    if (!methods.includes(id))
      throw new Error(
        `--param ${o.param.find((p) => p.startsWith(`${id}.`))} is for method ${id}, which is not in --method (${methods.join(', ')}); add it there or drop the parameter`,
      );
  for (const id of methods) getMethod(id).resolveParams(params[id] ?? {});
  if (!(VIEW_KINDS as readonly string[]).includes(o.view))
    throw new Error(`--view must be one of ${VIEW_KINDS.join(', ')}, got "${o.view}"`);
  if (!(o.opacity >= 0 && o.opacity <= 1)) throw new Error(`--opacity must be in [0, 1], got ${o.opacity}`);
  if (!(o.tileOverlap >= 0 && o.tileOverlap < 1))
    throw new Error(`--tile-overlap must be in [0, 1), got ${o.tileOverlap}`);
  const targets = parseTargets(o);
  checkPromptLengths(targets.flatMap(targetTexts), 'prompt');
  if (o.textRelevance && !targets.some((t) => t.kind === 'prompt'))
    throw new Error('--text-relevance explains the words of a prompt: give at least one --prompt');
  if (o.view === 'tiles')
    for (const image of o.image) {
      const info = await readImageInfo(image);
      try {
        checkTileCount(
          info.width,
          info.height,
          o.tileOverlap,
          o.maxTiles ?? DEFAULT_MAX_TILES,
          'raise it with --max-tiles, or lower --tile-overlap',
        );
      } catch (e) {
        throw new Error(`${image}: ${(e as Error).message}`);
      }
    }
  const clip = await loadClip(o.model);
  reportTruncatedPrompts(clip, targets.flatMap(targetTexts));
  const bar =
    process.stderr.isTTY && !o.quiet
      ? new cliProgress.SingleBar(
          { format: 'explain |{bar}| {value}/{total} {label}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let count = 0;
  let relevant = 0;
  try {
    for (const [i, image] of o.image.entries()) {
      const result = await explainImage(
        clip,
        {
          image,
          targets,
          methods: methods.map((id) => ({ id, params: params[id] })),
          view: o.view as ViewKind,
          tileOverlap: o.tileOverlap,
        },
        (done, total, label) => {
          if (!bar) return;
          if (done === 1 && i === 0) bar.start(total * o.image.length, 0, { label });
          bar.increment(1, { label });
        },
      );
      count += (await writeExplanations(o.out, clip.id, result, { opacity: o.opacity })).length;
      if (o.textRelevance) relevant += await addTextRelevance(clip, o.out, result, o.tileOverlap);
    }
  } finally {
    bar?.stop();
    clip.dispose();
  }
  const words = o.textRelevance ? ` and the token relevance of ${relevant} prompt(s)` : '';
  process.stdout.write(
    `wrote ${count} maps${words} for ${o.image.length} image(s) to ${o.out}/manifest.json\n`,
  );
}
