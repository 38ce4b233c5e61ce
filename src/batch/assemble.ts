/**
 * Job results and the run manifest. A worker never touches `manifest.json` (workers on many machines would race
 * on it): each job writes its maps and a fragment `.batch/<run>/jobs/<job key>.json` holding its manifest entries.
 * When a run has nothing left to do, {@link assembleRunManifest} merges every fragment into `manifest.json` (the
 * `explain --out` format, which `regions score` and `report` read; entries of other runs and of `explain` are kept)
 * and writes `runs/<run>.json` (the run's spec, totals and failures).
 *
 * @example
 * const { entries } = await assembleRunManifest(store, spec, status);
 */
import type { Manifest, ManifestEntry } from '../attribution/manifest.ts';
import { runPaths } from './keys.ts';
import type { RunSpec } from './plan.ts';
import type { RunStatus } from './queue.ts';
import type { ResultStore } from './store.ts';

/** A manifest entry as a batch job writes it: the `explain` entry plus its keys. */
export interface BatchManifestEntry extends ManifestEntry {
  /** The server's cache key of this map (model, painting, method, params, target, view). */
  cache_key: string;
  /** sha256 of the painting file. */
  image_sha256: string;
  /** sha256 of the model's weights. */
  model_fingerprint: string;
  /** The batch run and job that wrote it. */
  run: string;
  job: string;
}

/** What one job leaves in the store besides its maps. */
export interface JobFragment {
  version: 1;
  run: string;
  job: string;
  model: string;
  /** Method group index in the run. */
  group: number;
  /** Per entry: the painting's index in the run (for the manifest's order). */
  order: number[];
  entries: BatchManifestEntry[];
  worker: string;
  ms: number;
  finished: string;
}

/** The run manifest `runs/<run>.json`. */
export interface RunManifest {
  run: string;
  spec: RunSpec;
  assembled: string;
  /** Files written by the run's jobs, relative to the store's root. */
  entries: number;
  fragments: number;
  counts?: RunStatus['counts'];
  failures?: RunStatus['failures'];
  /** The manifest the entries are in. */
  manifest: 'manifest.json';
}

const entryKey = (x: { image: string; method: string; target: string; params: unknown }) =>
  JSON.stringify([x.image, x.method, x.target, x.params]);

async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/**
 * Reads the run's fragments and writes `manifest.json` (merged with what is there) and `runs/<run>.json`.
 * Entries are ordered as `explain` would write them: painting, then method group, then method and target.
 *
 * @example
 * const rm = await assembleRunManifest(await openStore('/mnt/shared/maps'), spec);
 * rm.entries; // maps listed in manifest.json by this run
 */
export async function assembleRunManifest(
  store: ResultStore,
  spec: RunSpec,
  status?: Pick<RunStatus, 'counts' | 'failures'>,
): Promise<RunManifest> {
  const paths = runPaths(spec.name);
  const files = (await store.list(paths.fragments)).filter((f) => f.endsWith('.json'));
  const fragments = await mapLimit(files, 16, async (f) => {
    const bytes = await store.get(f);
    if (!bytes) throw new Error(`${store.uri}: ${f} vanished while the manifest was assembled`);
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as JobFragment;
    } catch (e) {
      throw new Error(`${store.uri}: ${f} is not valid JSON (${(e as Error).message})`);
    }
  });
  const rows: { entry: BatchManifestEntry; sort: number[] }[] = [];
  for (const fr of fragments)
    fr.entries.forEach((entry, n) => rows.push({ entry, sort: [fr.order[n], fr.group, n] }));
  rows.sort((a, b) => a.sort[0] - b.sort[0] || a.sort[1] - b.sort[1] || a.sort[2] - b.sort[2]);
  const fresh = rows.map((r) => r.entry);
  const freshKeys = new Set(fresh.map(entryKey));

  let previous: Manifest | undefined;
  const old = await store.get('manifest.json');
  if (old) {
    try {
      previous = JSON.parse(new TextDecoder().decode(old)) as Manifest;
      if (!Array.isArray(previous.entries)) throw new Error('"entries" is not a list');
    } catch (e) {
      throw new Error(
        `${store.uri}/manifest.json: cannot read the existing manifest (${(e as Error).message}); move it away`,
      );
    }
  }
  const kept = (previous?.entries ?? []).filter((x) => !freshKeys.has(entryKey(x)));
  const manifest: Manifest = { model: spec.modelId, entries: [...kept, ...fresh] };
  await store.put('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  const runManifest: RunManifest = {
    run: spec.name,
    spec,
    assembled: new Date().toISOString(),
    entries: fresh.length,
    fragments: fragments.length,
    ...(status ? { counts: status.counts, failures: status.failures } : {}),
    manifest: 'manifest.json',
  };
  await store.put(paths.runManifest, `${JSON.stringify(runManifest, null, 2)}\n`);
  return runManifest;
}
