/**
 * The work of `artprobe encode` (options are declared in `../commands/encode.ts`): image and text embeddings
 * and the logits table. Texts are checked (not empty) and those longer than CLIP's context are reported before
 * anything is encoded.
 *
 * @example
 * await runEncode({ model: 'openai/clip-vit-base-patch32', image: ['a.jpg'], text: ['a cat'], json: true });
 */
import { loadClip } from '../../core/clip.ts';
import { checkPromptLengths, reportTruncatedPrompts } from './prompt-check.ts';

/** Options of `artprobe encode`. */
export interface EncodeOptions {
  model: string;
  image: string[];
  text: string[];
  json?: boolean;
  maxPixels?: number;
}

function normalise(v: Float32Array): number[] {
  const n = Math.hypot(...v);
  return Array.from(v, (x) => x / n);
}

/**
 * Formats the logits table as aligned text: one row per image, one column per text.
 *
 * @example
 * formatLogitsTable(['a.jpg'], ['a cat', 'a dog'], [[25.1, 18.3]]);
 */
export function formatLogitsTable(images: string[], texts: string[], logits: number[][]): string {
  const head = ['image \\ text', ...texts.map((t) => (t.length > 24 ? `${t.slice(0, 23)}…` : t))];
  const rows = images.map((im, i) => [im, ...logits[i].map((v) => v.toFixed(3))]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

/**
 * Runs `artprobe encode`: loads the model, prints embeddings (and logits when both images and texts are given).
 *
 * @example
 * await runEncode({ model: 'M', image: [], text: ['a cat'] });
 */
export async function runEncode(opts: EncodeOptions): Promise<void> {
  if (opts.image.length === 0 && opts.text.length === 0)
    throw new Error('encode: give at least one --image or --text');
  checkPromptLengths(opts.text, '--text');
  if (opts.maxPixels !== undefined && !(Number.isInteger(opts.maxPixels) && opts.maxPixels > 0))
    throw new Error(`--max-pixels must be a positive integer, got ${opts.maxPixels}`);
  const clip = await loadClip(opts.model, opts.maxPixels ? { maxPixels: opts.maxPixels } : {});
  try {
    reportTruncatedPrompts(clip, opts.text);
    const r = await clip.logits(opts.image, opts.text);
    const [imageRaw, textRaw, logits] = [r.imageEmbeds, r.textEmbeds, r.logitsPerImage];
    const imageEmbeds = imageRaw.map(normalise);
    const textEmbeds = textRaw.map(normalise);
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({
          model: clip.dir,
          engine: clip.engine.kind,
          backend: clip.backend?.name ?? null,
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
    const lines = [`model ${clip.dir} on ${clip.engine.description}`];
    opts.image.forEach((f, i) => lines.push(`image ${f}: ${show(imageEmbeds[i])}`));
    opts.text.forEach((t, i) => lines.push(`text "${t}": ${show(textEmbeds[i])}`));
    if (opts.image.length && opts.text.length)
      lines.push('', 'logits (100·cos):', formatLogitsTable(opts.image, opts.text, logits));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clip.dispose();
  }
}
