/**
 * The work of `artprobe model pull` and `artprobe model list` (options are declared in
 * `../commands/model.ts`): fetch CLIP models from the Hugging Face hub and show what is installed.
 *
 * @example
 * await runModelPull('openai/clip-vit-base-patch32', { revision: 'main' });
 * await runModelList({ json: true });
 */
import { pullModel } from '../../core/hub.ts';
import { defaultModelsDir, type InstalledModel, listModels } from '../../core/model-store.ts';

/** Options of `artprobe model pull`. */
export interface ModelPullOptions {
  revision: string;
  modelsDir?: string;
  force?: boolean;
  quiet?: boolean;
}

/** Options of `artprobe model list`. */
export interface ModelListOptions {
  modelsDir?: string;
  json?: boolean;
}

/**
 * A byte count for people: B, kB, MB or GB (decimal).
 *
 * @example
 * formatBytes(605_000_000); // '605.0 MB'
 */
export function formatBytes(n: number): string {
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
 * process.stdout.write(formatModelTable(await listModels(dir), dir));
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
 * Runs `artprobe model pull <hub-id>`.
 *
 * @example
 * await runModelPull('openai/clip-vit-base-patch32', { revision: 'main', quiet: true });
 */
export async function runModelPull(hubId: string, o: ModelPullOptions): Promise<void> {
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
}

/**
 * Runs `artprobe model list`.
 *
 * @example
 * await runModelList({});
 */
export async function runModelList(o: ModelListOptions): Promise<void> {
  const dir = defaultModelsDir(o.modelsDir);
  const models = await listModels(dir);
  process.stdout.write(o.json ? `${JSON.stringify(models, null, 2)}\n` : formatModelTable(models, dir));
}
