/**
 * `artprobe report`: a self-contained static HTML report of a set of paintings (overlays of every method ×
 * prompt, expert regions, zero-shot probe answers, agreement metrics) that opens from disk without a server.
 *
 * @example
 * artprobe report --model ../shared/toy/A/model --image ../shared/paintings/*.jpg --prompt "a red circle" \
 *   --annotations ../shared/paintings/annotations.jsonld --out report/
 */
import type { Command } from 'commander';
import { getMethod } from '../../attribution/registry.ts';
import { METHOD_IDS } from '../../attribution/types.ts';
import { VIEW_KINDS, type ViewKind } from '../../attribution/views.ts';
import { loadClip } from '../../core/clip.ts';
import { buildReport } from '../../report/build-report.ts';

interface ReportCliOptions {
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
  title?: string;
  out: string;
  quiet?: boolean;
}

/** Adds `artprobe report`. */
export function register(program: Command): void {
  program
    .command('report')
    .description(
      'a self-contained static HTML report (overlays, probe answers, region metrics) of a set of paintings',
    )
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .requiredOption('--image <files...>', 'painting files')
    .requiredOption('--prompt <texts...>', 'prompts to explain')
    .option(
      '--annotations <file>',
      'expert regions (W3C Web Annotation, COCO, LabelMe or VIA), matched to images by file name',
    )
    .option(
      '--catalog <file>',
      'catalog JSON (list of {file, title, artist, ...}); default: catalog.json next to the first image',
    )
    .option('--method <ids>', `comma-separated: ${METHOD_IDS.join(', ')}`, 'chefer-all,rollout')
    .option('--view <kind>', 'crop, pad (whole painting, letterboxed) or tiles', 'pad')
    .option(
      '--dimensions <names>',
      'zero-shot probe dimensions or suites, comma-separated ("none" for no probes)',
      'style,century,defect',
    )
    .option('--opacity <f>', 'overlay opacity 0..1', Number.parseFloat, 0.6)
    .option('--max-side <px>', 'longest side of embedded images', (v) => Number.parseInt(v, 10), 640)
    .option('--title <text>', 'report title')
    .requiredOption('--out <dir>', 'output folder (index.html and report.json are written there)')
    .option('--quiet', 'no progress output')
    .action(async (o: ReportCliOptions) => {
      const methods = o.method
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (methods.length === 0) throw new Error('--method needs at least one method id');
      for (const id of methods) getMethod(id);
      if (!(VIEW_KINDS as readonly string[]).includes(o.view))
        throw new Error(`--view must be one of ${VIEW_KINDS.join(', ')}, got "${o.view}"`);
      if (!(o.opacity >= 0 && o.opacity <= 1))
        throw new Error(`--opacity must be in [0, 1], got ${o.opacity}`);
      if (!(Number.isInteger(o.maxSide) && o.maxSide >= 64 && o.maxSide <= 4096))
        throw new Error(`--max-side must be an integer in 64..4096, got ${o.maxSide}`);
      if (o.prompt.some((p) => !p.trim())) throw new Error('--prompt values must be non-empty');
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
    });
}
