/**
 * The work of `artprobe explain` (options are declared in `../commands/explain.ts`): saliency maps for
 * paintings, written as .npy maps, PNG overlays and manifest.json.
 *
 * @example
 * await runExplain({ model: 'M', image: ['a.png'], prompt: ['a red circle'], contrast: [], ensemble: [],
 *   method: 'chefer-all', view: 'crop', tileOverlap: 0.25, param: [], opacity: 0.6, out: 'out' });
 */
import cliProgress from 'cli-progress';
import { explainImage } from '../../attribution/explain.ts';
import { writeExplanations } from '../../attribution/manifest.ts';
import { getMethod } from '../../attribution/registry.ts';
import { VIEW_KINDS, type ViewKind } from '../../attribution/views.ts';
import { loadClip } from '../../core/clip.ts';
import { parseTargets } from '../commands/explain.ts';

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
  const params = parseMethodParams(o.param);
  for (const id of methods) getMethod(id).resolveParams(params[id] ?? {});
  if (!(VIEW_KINDS as readonly string[]).includes(o.view))
    throw new Error(`--view must be one of ${VIEW_KINDS.join(', ')}, got "${o.view}"`);
  if (!(o.opacity >= 0 && o.opacity <= 1)) throw new Error(`--opacity must be in [0, 1], got ${o.opacity}`);
  const targets = parseTargets(o);
  const clip = await loadClip(o.model);
  const bar =
    process.stderr.isTTY && !o.quiet
      ? new cliProgress.SingleBar(
          { format: 'explain |{bar}| {value}/{total} {label}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let count = 0;
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
    }
  } finally {
    bar?.stop();
    clip.dispose();
  }
  process.stdout.write(`wrote ${count} maps for ${o.image.length} image(s) to ${o.out}/manifest.json\n`);
}
