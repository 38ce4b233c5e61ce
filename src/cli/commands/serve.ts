/**
 * `artprobe serve`: the long-running server for the web UI and for scripts (HTTP + JSON, OpenAPI at
 * /api/openapi.json). Listens on 127.0.0.1 unless `--host` says otherwise (with a warning). With no `--model`
 * it uses openai/clip-vit-base-patch32, pulling it from the hub when it is not installed; offline it explains
 * how to install a model and serves everything else. The work is in `../actions/serve.ts`, loaded only when the
 * command runs.
 *
 * @example
 * artprobe serve
 * artprobe serve --workspace ~/art-ws --model ../shared/toy/A/model --port 0   # prints the chosen port
 */
import type { Command } from 'commander';
import type { ServeOptions } from '../actions/serve.ts';

/**
 * The model served when `--model` is not given (pulled from the hub when it is not installed).
 *
 * @example
 * modelDirFor(DEFAULT_MODEL, modelsDir); // '<modelsDir>/openai--clip-vit-base-patch32'
 */
export const DEFAULT_MODEL = 'openai/clip-vit-base-patch32';

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name} must be an integer in ${min}..${max}, got "${v}"`);
    return n;
  };
}

/**
 * Adds `artprobe serve`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('serve')
    .description('start the artprobe server (web UI + HTTP API) on 127.0.0.1')
    .option('--workspace <dir>', 'workspace folder (env ARTPROBE_WORKSPACE; default <repo>/workspace)')
    .option(
      '--model <dir|hub-id>',
      `model folder or installed hub id (default ${DEFAULT_MODEL}, pulled when missing)`,
    )
    .option('--port <n>', 'port (0 = any free port, printed on stdout)', int('--port', 0, 65535), 8787)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--concurrency <n>', 'explanation jobs running at once', int('--concurrency', 1, 16), 1)
    .option('--max-upload-mb <n>', 'largest upload in MB', int('--max-upload-mb', 1, 4096), 50)
    .option('--models-dir <dir>', 'installed models folder (env ARTPROBE_MODELS)')
    .option('--no-pull', 'never download the default model')
    .action(async (o: ServeOptions) => {
      const { runServe } = await import('../actions/serve.ts');
      await runServe(o);
    });
}
