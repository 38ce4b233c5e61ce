/**
 * The work of `artprobe report` (options are declared in `../commands/report.ts`): checks the options, loads
 * the model and writes the static HTML report.
 *
 * @example
 * await runReport({ model: 'M', image: ['a.jpg'], prompt: ['a red circle'], method: 'chefer-all', view: 'pad',
 *   dimensions: 'none', opacity: 0.6, maxSide: 640, out: 'report' });
 */
import { getMethod } from '../../attribution/registry.ts';
import { VIEW_KINDS, type ViewKind } from '../../attribution/views.ts';
import { loadClip } from '../../core/clip.ts';
import { buildReport } from '../../report/build-report.ts';
import { checkPromptLengths } from './prompt-check.ts';

/** Options of `artprobe report`, as commander parses them. */
export interface ReportCliOptions {
  model: string;
  image: string[];
  prompt: string[];
  annotations?: string;
  catalog?: string;
  method: string;
  view: string;
  dimensions: string;
  opacity: number;
  maxSide: number;
  /** Steps of the deletion / insertion games (0: none). */
  faithfulnessSteps?: number;
  /** Longest side the agreement metrics are computed at (0: painting pixels). */
  metricSide?: number;
  title?: string;
  out: string;
  quiet?: boolean;
}

/**
 * Runs `artprobe report`.
 *
 * @example
 * await runReport(options);
 */
export async function runReport(o: ReportCliOptions): Promise<void> {
  const methods = o.method
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (methods.length === 0) throw new Error('--method needs at least one method id');
  for (const id of methods) getMethod(id);
  if (!(VIEW_KINDS as readonly string[]).includes(o.view))
    throw new Error(`--view must be one of ${VIEW_KINDS.join(', ')}, got "${o.view}"`);
  if (!(o.opacity >= 0 && o.opacity <= 1)) throw new Error(`--opacity must be in [0, 1], got ${o.opacity}`);
  if (!(Number.isInteger(o.maxSide) && o.maxSide >= 64 && o.maxSide <= 4096))
    throw new Error(`--max-side must be an integer in 64..4096, got ${o.maxSide}`);
  if (o.prompt.some((p) => !p.trim())) throw new Error('--prompt values must be non-empty');
  checkPromptLengths(o.prompt, '--prompt');
  const dims =
    o.dimensions === 'none'
      ? []
      : o.dimensions
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const clip = await loadClip(o.model);
  const t0 = performance.now();
  try {
    const { file, bytes, data } = await buildReport(clip, {
      images: o.image,
      prompts: o.prompt,
      methods: methods.map((id) => ({ id })),
      view: o.view as ViewKind,
      annotations: o.annotations,
      catalog: o.catalog,
      dimensions: dims,
      opacity: o.opacity,
      maxSide: o.maxSide,
      faithfulnessSteps: o.faithfulnessSteps,
      metricSide: o.metricSide,
      title: o.title,
      modelName: o.model,
      out: o.out,
      onProgress: o.quiet
        ? undefined
        : (done, total, label) =>
            done < total && process.stderr.write(`report: ${done + 1}/${total} ${label}\n`),
    });
    for (const n of data.notes) process.stderr.write(`note: ${n}\n`);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    process.stdout.write(
      `wrote ${file} (${data.paintings.length} paintings, ${(bytes / 1e6).toFixed(1)} MB) in ${secs} s\n`,
    );
  } finally {
    clip.dispose();
  }
}
