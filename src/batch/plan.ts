/**
 * Turns a batch request (model, paintings, targets, methods) into the jobs of a run: one job per painting ×
 * method group, holding all the painting's targets, so the text embeddings and the painting's decode are shared
 * and a method that handles all targets in one pass (occlusion, the batched gradients) does so. Each job is keyed
 * by the server's cache key (see `keys.ts`): the same request always gives the same jobs, which is what makes a
 * re-run resume instead of repeat.
 *
 * @example
 * const plan = await planBatch({
 *   model: '../shared/toy/A/model', images: { dir: '../shared/toy/A/eval/images' },
 *   targets: [{ kind: 'prompt', prompt: 'a red circle' }],
 *   methodGroups: [[{ id: 'rollout', params: {} }], [{ id: 'occlusion', params: {} }]],
 *   view: 'crop', out: 'out/',
 * });
 * plan.jobs.length; // 120 images × 2 groups = 240
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { slugify } from '../attribution/manifest.ts';
import { getMethod } from '../attribution/registry.ts';
import { checkTarget, describeTarget, type TargetSpec } from '../attribution/target.ts';
import { VIEW_KINDS, type ViewKind } from '../attribution/views.ts';
import { detectFormat } from '../core/clip-config.ts';
import { resolveModelSource } from '../core/model-store.ts';
import { findWeightsFile } from '../core/weights.ts';
import { fingerprintFile } from '../engine/create-engine.ts';
import { loadCatalog } from '../probe/catalog.ts';
import { resolveSuites, selectDimensions } from '../probe/suites.ts';
import { canonicalJson, checkRunName, jobKey, type ResolvedMethod, sha256, viewKey } from './keys.ts';
import { normalizeStoreUri } from './store.ts';

/**
 * File extensions read from an images folder.
 *
 * @example
 * BATCH_IMAGE_EXTS.includes('.png'); // true
 */
export const BATCH_IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'];

/** What one job carries: everything a worker on any machine needs, nothing it must look up. */
export interface BatchJobData {
  run: string;
  /** Model folder (absolute) or installed hub id, as every worker resolves it. */
  model: string;
  /** sha256 of the weights file; a worker whose copy differs refuses the job. */
  fingerprint: string;
  /** Painting file (absolute path, readable by every worker: a shared folder). */
  image: string;
  /**
   * The painting's names in the manifest (its path relative to the images folder, or the catalog's value) with
   * their index in the run: several when files with the same content appear under several names.
   */
  names: { name: string; index: number }[];
  imageSha: string;
  methods: ResolvedMethod[];
  /**
   * The targets. In Redis they are kept once per run (`<prefix>:run:<run>:targets`) and a job holds only
   * `targetsId`, so a suite of dozens of label targets does not weigh on every one of a million jobs.
   */
  targets?: TargetSpec[];
  /** Id of the run's target list in Redis (when `targets` is left out). */
  targetsId?: string;
  view: ViewKind;
  tileOverlap: number;
  opacity: number;
  /** Result store: folder or `s3://bucket/prefix`. */
  out: string;
  /** Method group index: with `names[].index`, the order of the run manifest. */
  group: number;
}

/** A run as kept in Redis (`<prefix>:runs`) and in the run manifest. */
export interface RunSpec {
  version: 1;
  name: string;
  model: string;
  /** The model's short name (its folder name), as `explain` writes it in manifest.json. */
  modelId: string;
  fingerprint: string;
  out: string;
  view: ViewKind;
  /** Method groups, e.g. ["rollout", "chefer-last+chefer-all"]. */
  methods: string[];
  targets: string[];
  images: number;
  jobs: number;
  attempts: number;
  created: string;
  updated: string;
}

export interface PlannedJob {
  key: string;
  data: BatchJobData;
}

export interface BatchPlan {
  spec: RunSpec;
  jobs: PlannedJob[];
}

/** Where the paintings come from: a folder (not recursive) or a catalog (CSV, JSON, JSONL, parquet). */
export type ImageSource =
  | { dir: string }
  | { catalog: string; imageColumn?: string; imagesDir?: string }
  | { files: string[] };

export interface PlanRequest {
  model: string;
  images: ImageSource;
  targets: TargetSpec[];
  /** Method groups with resolved or raw parameters (resolved here). */
  methodGroups: { id: string; params?: Record<string, unknown> }[][];
  view?: ViewKind;
  tileOverlap?: number;
  opacity?: number;
  out: string;
  /** Run name; default `run-` + 12 hex digits of the jobs' hash (the same request gives the same name). */
  run?: string;
  /** Attempts before a failing job is parked (default 3). */
  attempts?: number;
  /** Folder for hub models. */
  modelsDir?: string;
  /** Called while paintings are hashed. */
  onHash?: (done: number, total: number) => void;
}

/**
 * Parses `--method`: methods separated by commas, each its own job; `a+b` puts several methods in one job.
 *
 * @example
 * parseMethodGroups('rollout+chefer-last,occlusion'); // [['rollout', 'chefer-last'], ['occlusion']]
 */
export function parseMethodGroups(spec: string): string[][] {
  const groups = String(spec)
    .split(',')
    .map((g) =>
      g
        .split('+')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .filter((g) => g.length > 0);
  if (groups.length === 0) throw new Error('--method needs at least one method id');
  const seen = new Set<string>();
  for (const id of groups.flat()) {
    getMethod(id);
    if (seen.has(id)) throw new Error(`--method names "${id}" twice`);
    seen.add(id);
  }
  return groups;
}

/**
 * Targets of probe suites: one label target per label of every selected dimension (the label's probability
 * within its dimension, with the suite's prompt ensemble).
 *
 * @example
 * await suiteTargets(['style'], ['style']);
 */
export async function suiteTargets(suites: string[], dimensions?: string[]): Promise<TargetSpec[]> {
  const dims = selectDimensions(await resolveSuites(suites), dimensions);
  return dims.flatMap((d) => {
    const labels = d.labels.map((l) => l.id);
    const prompts = d.labels.map((l) => l.prompts);
    return d.labels.map((l): TargetSpec => ({ kind: 'label', label: l.id, labels, prompts }));
  });
}

async function hashFile(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', (e) => rej(new Error(`cannot read painting ${path}: ${e.message}`)));
  });
}

/**
 * Lists the paintings of a source: [absolute path, name in the manifest].
 *
 * @example
 * await listImages({ dir: 'paintings/' }); // [['/abs/paintings/a.jpg', 'a.jpg'], ...]
 */
export async function listImages(src: ImageSource): Promise<[string, string][]> {
  if ('files' in src) return src.files.map((f) => [resolve(f), f]);
  if ('dir' in src) {
    const dir = resolve(src.dir);
    const s = await stat(dir).catch(() => undefined);
    if (!s?.isDirectory()) throw new Error(`--images: not a folder: ${dir}`);
    const names = (await readdir(dir))
      .filter((n) => BATCH_IMAGE_EXTS.includes(extname(n).toLowerCase()))
      .sort();
    if (names.length === 0)
      throw new Error(`--images: no paintings (${BATCH_IMAGE_EXTS.join(' ')}) in ${dir}`);
    return names.map((n) => [join(dir, n), n]);
  }
  const cat = await loadCatalog(src.catalog, { imageColumn: src.imageColumn, imagesDir: src.imagesDir });
  return cat.rows.map((r) => [r.image, r.name]);
}

/**
 * Builds the run: checks the request, hashes the model's weights and every painting, and lists the jobs.
 * Nothing is loaded onto an engine.
 *
 * @example
 * const plan = await planBatch({ model: 'M', images: { dir: 'paintings/' }, targets, methodGroups: [[{ id: 'rollout' }]],
 *   out: '/mnt/shared/maps', run: 'museum' });
 */
export async function planBatch(req: PlanRequest): Promise<BatchPlan> {
  const view = req.view ?? 'crop';
  if (!(VIEW_KINDS as readonly string[]).includes(view))
    throw new Error(`--view must be one of ${VIEW_KINDS.join(', ')}, got "${view}"`);
  const tileOverlap = req.tileOverlap ?? 0.25;
  if (!(tileOverlap >= 0 && tileOverlap < 1))
    throw new Error(`--tile-overlap must be in [0, 1), got ${tileOverlap}`);
  const opacity = req.opacity ?? 0.6;
  if (!(opacity >= 0 && opacity <= 1)) throw new Error(`--opacity must be in [0, 1], got ${opacity}`);
  const attempts = req.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100)
    throw new Error(`--attempts must be an integer in 1..100, got ${attempts}`);
  if (req.targets.length === 0)
    throw new Error('give at least one --prompt, --labels, --contrast, --ensemble or --suite');
  req.targets.forEach(checkTarget);
  const descs = req.targets.map(describeTarget);
  const dup = descs.find((d, i) => descs.indexOf(d) !== i);
  if (dup) throw new Error(`two targets read "${dup}": their maps would share one file name`);
  const groups: ResolvedMethod[][] = req.methodGroups.map((g) =>
    g.map((m) => ({
      id: m.id,
      params: getMethod(m.id).resolveParams(m.params ?? {}) as Record<string, unknown>,
    })),
  );
  if (groups.length === 0 || groups.some((g) => g.length === 0))
    throw new Error('--method needs at least one method id');

  // the model: a folder (sent as its absolute path) or an installed hub id
  const dir = await resolveModelSource(req.model, { modelsDir: req.modelsDir });
  const model = dir === resolve(req.model) ? dir : req.model;
  const fingerprint = await fingerprintFile(findWeightsFile(dir, detectFormat(dir)));

  const out = normalizeStoreUri(req.out);
  const images = await listImages(req.images);
  const stems = new Map<string, string>();
  for (const [, name] of images) {
    const stem = slugify(basename(name, extname(name)), 60);
    const prev = stems.get(stem);
    if (prev !== undefined)
      throw new Error(
        `paintings "${prev}" and "${name}" would write maps of the same name (${stem}__…); rename one or run them separately`,
      );
    stems.set(stem, name);
  }
  const shas: string[] = new Array(images.length);
  let hashed = 0;
  let next = 0;
  const hashOne = async (): Promise<void> => {
    while (next < images.length) {
      const i = next++;
      shas[i] = await hashFile(images[i][0]);
      req.onHash?.(++hashed, images.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, images.length) }, hashOne));

  const vk = viewKey(view, tileOverlap);
  const jobs: PlannedJob[] = [];
  const byKey = new Map<string, PlannedJob>();
  images.forEach(([path, name], i) => {
    groups.forEach((methods, g) => {
      const key = jobKey({ fingerprint, imageSha: shas[i], methods, targets: req.targets, view: vk });
      const same = byKey.get(key);
      if (same) {
        same.data.names.push({ name, index: i }); // the same painting under another name: computed once
        return;
      }
      const job: PlannedJob = {
        key,
        data: {
          run: '',
          model,
          fingerprint,
          image: path,
          names: [{ name, index: i }],
          imageSha: shas[i],
          methods,
          targets: req.targets,
          view,
          tileOverlap,
          opacity,
          out,
          group: g,
        },
      };
      byKey.set(key, job);
      jobs.push(job);
    });
  });
  const run =
    req.run !== undefined
      ? checkRunName(req.run)
      : `run-${sha256(canonicalJson([out, jobs.map((j) => [j.key, j.data.names.map((n) => n.name)])])).slice(0, 12)}`;
  for (const j of jobs) j.data.run = run;
  const now = new Date().toISOString();
  return {
    spec: {
      version: 1,
      name: run,
      model,
      modelId: basename(dir),
      fingerprint,
      out,
      view,
      methods: groups.map((g) => g.map((m) => m.id).join('+')),
      targets: descs,
      images: images.length,
      jobs: jobs.length,
      attempts,
      created: now,
      updated: now,
    },
    jobs,
  };
}
