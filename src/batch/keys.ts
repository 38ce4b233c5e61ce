/**
 * Names and keys of batch runs: the job key (the server's cache key, see `src/server/jobs.ts`), run-name
 * validation, the Redis keys a run owns and the paths of a run's files in its result store.
 *
 * Cache key of one map = sha256 of canonical JSON `[model fingerprint, image sha256, method, resolved params,
 * target, view]`, exactly as the server computes it. A batch job covers one painting × one method group × all its
 * targets, so its key puts the list of targets (or the single target when there is one, which makes it equal
 * to the server's key) and, for a group of several methods, the list of methods and their params in those slots.
 *
 * @example
 * const key = jobKey({ fingerprint, imageSha, methods: [{ id: 'rollout', params: {} }], targets, view: 'crop' });
 * redisKeys('artprobe', 'museum').done; // 'artprobe:run:museum:done'
 */
import { createHash } from 'node:crypto';
import type { TargetSpec } from '../attribution/target.ts';

/** A method with its resolved parameters. */
export interface ResolvedMethod {
  id: string;
  params: Record<string, unknown>;
}

/**
 * JSON with object keys sorted at every level and undefined members dropped: the same text as the server's
 * `canonicalJson` (a test checks that the two agree).
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Hex sha256 of bytes or text.
 *
 * @example
 * sha256('abc'); // 'ba7816bf…'
 */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The view as it enters a key: the view name, or `{kind: 'tiles', overlap}` when tiles use a non-default overlap.
 *
 * @example
 * viewKey('tiles', 0.5); // { kind: 'tiles', overlap: 0.5 }
 */
export function viewKey(view: string, tileOverlap = 0.25): unknown {
  return view === 'tiles' && tileOverlap !== 0.25 ? { kind: 'tiles', overlap: tileOverlap } : view;
}

/**
 * The server's cache key of one map (one method, one target).
 *
 * @example
 * mapCacheKey(fp, imageSha, { id: 'chefer-all', params: {} }, { kind: 'prompt', prompt: 'a wave' }, 'crop');
 */
export function mapCacheKey(
  fingerprint: string,
  imageSha: string,
  method: ResolvedMethod,
  target: TargetSpec,
  view: unknown,
): string {
  return sha256(canonicalJson([fingerprint, imageSha, method.id, method.params, target, view]));
}

/**
 * The key (and BullMQ job id) of one batch job: one painting × a method group × its targets. With one method
 * and one target it equals {@link mapCacheKey}.
 *
 * @example
 * jobKey({ fingerprint, imageSha, methods: [{ id: 'rollout', params: {} }], targets, view: 'crop' });
 */
export function jobKey(o: {
  fingerprint: string;
  imageSha: string;
  methods: ResolvedMethod[];
  targets: TargetSpec[];
  view: unknown;
}): string {
  const method = o.methods.length === 1 ? o.methods[0].id : o.methods.map((m) => m.id);
  const params = o.methods.length === 1 ? o.methods[0].params : o.methods.map((m) => m.params);
  const target = o.targets.length === 1 ? o.targets[0] : o.targets;
  return sha256(canonicalJson([o.fingerprint, o.imageSha, method, params, target, o.view]));
}

const RUN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Checks a run name (letters, digits, `_`, `.`, `-`; at most 100 characters, starting with a letter or digit).
 *
 * @example
 * checkRunName('museum-2026'); // 'museum-2026'
 */
export function checkRunName(name: string): string {
  if (typeof name !== 'string' || !RUN_NAME_RE.test(name))
    throw new Error(
      `--run must be 1–100 letters, digits, "_", "." or "-" starting with a letter or digit, got ${JSON.stringify(name)}`,
    );
  return name;
}

/**
 * Default Redis key prefix of everything artprobe keeps there.
 *
 * @example
 * redisKeys(DEFAULT_PREFIX, 'museum').runs; // 'artprobe:runs'
 */
export const DEFAULT_PREFIX = 'artprobe';

/**
 * Redis keys of a run. BullMQ keeps the run's queue under `<prefix>:batch-<run>:*`; artprobe's own keys are
 * `<prefix>:runs` (hash: run name → run spec JSON) and `<prefix>:run:<run>:*`.
 *
 * @example
 * redisKeys('artprobe', 'museum').queue; // 'batch-museum'
 */
export function redisKeys(prefix: string, run: string) {
  const base = `${prefix}:run:${run}`;
  return {
    /** BullMQ queue name (BullMQ adds the prefix). */
    queue: `batch-${run}`,
    /** Hash of all runs: name → spec JSON. */
    runs: `${prefix}:runs`,
    /** Set of every job key ever submitted to the run. */
    all: `${base}:all`,
    /** Set of finished job keys (results written). */
    done: `${base}:done`,
    /** Sorted set of the slowest jobs (member: JSON, score: milliseconds). */
    slowest: `${base}:slowest`,
    /** Hash of counters: maps written, milliseconds of work. */
    stats: `${base}:stats`,
    /** Hash of workers seen: worker id → JSON {jobs, last}. */
    workers: `${base}:workers`,
    /** Hash of target lists: id → JSON list of targets (jobs refer to one by `targetsId`). */
    targets: `${base}:targets`,
  };
}

/**
 * Paths of a run's own files inside its result store (the maps themselves sit at the top, as `explain --out`
 * writes them).
 *
 * @example
 * runPaths('museum').fragment('ab12…'); // '.batch/museum/jobs/ab12….json'
 */
export function runPaths(run: string) {
  return {
    /** Folder of per-job manifest fragments. */
    fragments: `.batch/${run}/jobs/`,
    fragment: (key: string) => `.batch/${run}/jobs/${key}.json`,
    /** The run manifest: run spec, totals, failures, and the list of manifest entries' files. */
    runManifest: `runs/${run}.json`,
  };
}
