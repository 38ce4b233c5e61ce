/**
 * `artprobe model pull <hub-id>` and `artprobe model list`: fetch CLIP models from the Hugging Face hub into the
 * models folder and show what is installed. The work is in `../actions/model.ts`, loaded only when a
 * subcommand runs.
 *
 * @example
 * artprobe model pull openai/clip-vit-base-patch32 --revision main
 * artprobe model list --json
 */
import type { Command } from 'commander';
import type { ModelListOptions, ModelPullOptions } from '../actions/model.ts';

/**
 * Adds the `model` command group (`pull`, `list`).
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  const model = program
    .command('model')
    .description('get CLIP models from the Hugging Face hub and list installed ones');

  model
    .command('pull <hub-id>')
    .description(
      'download a CLIP (config, tokenizer, safetensors weights) into <models-dir>/<owner>--<name>/',
    )
    .option('--revision <rev>', 'branch, tag or commit sha', 'main')
    .option('--models-dir <dir>', 'models folder (env ARTPROBE_MODELS, default <repo>/models)')
    .option('--force', 'download again even when the same files are installed')
    .option('-q, --quiet', 'no progress bar')
    .action(async (hubId: string, o: ModelPullOptions) => {
      const { runModelPull } = await import('../actions/model.ts');
      await runModelPull(hubId, o);
    });

  model
    .command('list')
    .description('list models in the models folder (complete, copied in by hand, or partial downloads)')
    .option('--models-dir <dir>', 'models folder (env ARTPROBE_MODELS, default <repo>/models)')
    .option('--json', 'print JSON')
    .action(async (o: ModelListOptions) => {
      const { runModelList } = await import('../actions/model.ts');
      await runModelList(o);
    });
}
