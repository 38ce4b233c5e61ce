/**
 * `artprobe encode`: image and text embeddings and the logits table.
 *
 * @example
 * artprobe encode --model openai/clip-vit-base-patch32 --image a.jpg b.png --text "a cat" "a dog" --json
 */
import type { Command } from 'commander';
import { loadClip } from '../../core/clip.ts';

function normalise(v: Float32Array): number[] {
  const n = Math.hypot(...v);
  return Array.from(v, (x) => x / n);
}

/** Formats the logits table as aligned text: one row per image, one column per text. */
export function formatLogitsTable(images: string[], texts: string[], logits: number[][]): string {
  const head = ['image \\ text', ...texts.map((t) => (t.length > 24 ? `${t.slice(0, 23)}…` : t))];
  const rows = images.map((im, i) => [im, ...logits[i].map((v) => v.toFixed(3))]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

export function register(program: Command): void {
  program
    .command('encode')
    .description('print image and text embeddings and the image–text logits')
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .option('--image <files...>', 'image files', [])
    .option('--text <strings...>', 'texts', [])
    .option('--json', 'print {image_embeds, text_embeds, logits_per_image} (+ *_raw) as JSON')
    .option('--max-pixels <n>', 'refuse larger images before decoding', (v) => Number.parseInt(v, 10))
    .action(
      async (opts: {
        model: string;
        image: string[];
        text: string[];
        json?: boolean;
        maxPixels?: number;
      }) => {
        if (opts.image.length === 0 && opts.text.length === 0)
          throw new Error('encode: give at least one --image or --text');
        const clip = await loadClip(opts.model, opts.maxPixels ? { maxPixels: opts.maxPixels } : {});
        try {
          const r = await clip.logits(opts.image, opts.text);
          const [imageRaw, textRaw, logits] = [r.imageEmbeds, r.textEmbeds, r.logitsPerImage];
          const imageEmbeds = imageRaw.map(normalise);
          const textEmbeds = textRaw.map(normalise);
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({
                model: clip.dir,
                backend: clip.backend.name,
                images: opts.image,
                texts: opts.text,
                image_embeds: imageEmbeds,
                text_embeds: textEmbeds,
                logits_per_image: logits,
                image_embeds_raw: imageRaw.map((v) => Array.from(v)),
                text_embeds_raw: textRaw.map((v) => Array.from(v)),
              })}\n`,
            );
            return;
          }
          const show = (v: number[]) =>
            `[${v
              .slice(0, 6)
              .map((x) => x.toFixed(4))
              .join(', ')}${v.length > 6 ? ', …' : ''}] (dim ${v.length})`;
          const lines = [`model ${clip.dir} on ${clip.backend.name}`];
          opts.image.forEach((f, i) => lines.push(`image ${f}: ${show(imageEmbeds[i])}`));
          opts.text.forEach((t, i) => lines.push(`text "${t}": ${show(textEmbeds[i])}`));
          if (opts.image.length && opts.text.length)
            lines.push('', 'logits (100·cos):', formatLogitsTable(opts.image, opts.text, logits));
          process.stdout.write(`${lines.join('\n')}\n`);
        } finally {
          clip.dispose();
        }
      },
    );
}
