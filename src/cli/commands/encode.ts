/**
 * `artprobe encode`: image and text embeddings and the logits table. Texts longer than CLIP's 77 tokens are
 * reported (CLIP reads only their start). The work is in `../actions/encode.ts`, loaded only when the command
 * runs.
 *
 * @example
 * artprobe encode --model openai/clip-vit-base-patch32 --image a.jpg b.png --text "a cat" "a dog" --json
 */
import type { Command } from 'commander';
import type { EncodeOptions } from '../actions/encode.ts';
import { intOption } from './parse-options.ts';

/**
 * Adds `artprobe encode`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('encode')
    .description('print image and text embeddings and the image–text logits')
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .option('--image <files...>', 'image files', [])
    .option('--text <strings...>', 'texts', [])
    .option('--json', 'print {image_embeds, text_embeds, logits_per_image} (+ *_raw) as JSON')
    .option(
      '--max-pixels <n>',
      'refuse larger images before decoding (default 100000000)',
      intOption('--max-pixels', 1, 1_000_000_000),
    )
    .action(async (opts: EncodeOptions) => {
      const { runEncode } = await import('../actions/encode.ts');
      await runEncode(opts);
    });
}
