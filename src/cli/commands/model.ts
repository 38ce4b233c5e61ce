/**
 * `artprobe model pull <hub-id>` and `artprobe model list`: fetch CLIP models from the Hugging Face hub into the
 * models folder and show what is installed.
 *
 * @example
 * artprobe model pull openai/clip-vit-base-patch32 --revision main
 * artprobe model list --json
 */
import type { Command } from 'commander';
import { pullModel } from '../../core/hub.ts';
import { defaultModelsDir, type InstalledModel, listModels } from '../../core/model-store.ts';

function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function describeDims(m: InstalledModel): string {
  const d = m.dims;
  if (!d) return '-';
  return `embed ${d.embedDim}, ViT ${d.visionWidth}x${d.visionLayers} /${d.patchSize} @${d.imageSize}, text ${d.textWidth}x${d.textLayers}`;
}

/**
 * Renders installed models as an aligned text table.
 *
 * @example
 * process.stdout.write(formatModelTable(await listModels()));
 */
export function formatModelTable(models: InstalledModel[], modelsDir: string): string {
  if (models.length === 0)
    return `no models in ${modelsDir} (get one with: artprobe model pull <owner/name>)\n`;
  const rows = [
    ['ID', 'STATUS', 'FORMAT', 'SIZE', 'COMMIT', 'DIMS'],
    ...models.map((m) => [
      m.id,
      m.status,
      m.format,
      formatBytes(m.sizeBytes),
      m.commit?.slice(0, 10) ?? '-',
      describeDims(m),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '),
  );
  return `${lines.join('\n')}\nmodels folder: ${modelsDir}\n`;
}

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
    .action(
      async (
        hubId: string,
        o: { revision: string; modelsDir?: string; force?: boolean; quiet?: boolean },
      ) => {
        if (!o.revision.trim()) throw new Error('--revision must not be empty');
        const r = await pullModel(hubId, {
          revision: o.revision,
          modelsDir: o.modelsDir,
          force: o.force,
          quiet: o.quiet,
        });
        const total = r.files.reduce((a, f) => a + f.size, 0);
        const what = r.upToDate ? 'already up to date' : `downloaded ${formatBytes(r.downloadedBytes)}`;
        process.stdout.write(
          `${r.id}@${r.commit.slice(0, 10)} (${r.format}, ${r.files.length} files, ${formatBytes(total)}): ${what}\n` +
            `  ${r.dir}\n`,
        );
      },
    );

  model
    .command('list')
    .description('list models in the models folder (complete, copied in by hand, or partial downloads)')
    .option('--models-dir <dir>', 'models folder (env ARTPROBE_MODELS, default <repo>/models)')
    .option('--json', 'print JSON')
    .action(async (o: { modelsDir?: string; json?: boolean }) => {
      const dir = defaultModelsDir(o.modelsDir);
      const models = await listModels(dir);
      process.stdout.write(o.json ? `${JSON.stringify(models, null, 2)}\n` : formatModelTable(models, dir));
    });
}
