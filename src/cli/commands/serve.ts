/**
 * `artprobe serve`: the long-running server for the web UI and for scripts (HTTP + JSON, OpenAPI at
 * /api/openapi.json). Listens on 127.0.0.1 unless `--host` says otherwise; beyond loopback only with a token
 * (`--token`, `ARTPROBE_TOKEN`, or one generated and printed once). Answers only its own host names (plus
 * `--allow-host`). With no `--model` it uses openai/clip-vit-base-patch32, pulling it from the hub when it is
 * not installed; offline it explains how to install a model and serves everything else. Every option value is
 * checked (type and range) before anything starts. The work is in `../actions/serve.ts`, loaded only when the
 * command runs.
 *
 * @example
 * artprobe serve
 * artprobe serve --workspace ~/art-ws --model ../shared/toy/A/model --port 0   # prints the chosen port
 * ARTPROBE_TOKEN=… artprobe serve --host 0.0.0.0 --allow-host lab.example
 */
import type { Command } from 'commander';
import type { ServeOptions } from '../actions/serve.ts';
import { CLI_DEFAULT_MAP_PIXELS, CLI_MAX_TILES, intOption } from './parse-options.ts';

/**
 * The model served when `--model` is not given (pulled from the hub when it is not installed).
 *
 * @example
 * modelDirFor(DEFAULT_MODEL, modelsDir); // '<modelsDir>/openai--clip-vit-base-patch32'
 */
export const DEFAULT_MODEL = 'openai/clip-vit-base-patch32';

const collect = (v: string, prev: string[]) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(hostName('--allow-host')),
];

/** A host name or address for `--host` / `--allow-host`: no scheme, path, port or spaces. */
function hostName(flag: string) {
  return (v: string): string => {
    const t = v.trim().replace(/^\[(.*)\]$/, '$1');
    const colons = (t.match(/:/g) ?? []).length;
    if (!t || t.length > 253 || /[\s/?#@]/.test(t) || colons === 1)
      throw new Error(`${flag} must be a host name or an IP address (no scheme, port or path), got "${v}"`);
    return t;
  };
}

function token(v: string): string {
  if (v.length < 16 || v.length > 512 || /\s/.test(v))
    throw new Error('--token must be 16 to 512 characters without spaces (use a long random string)');
  return v;
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
    .description('start the artprobe server (web UI + HTTP API) on 127.0.0.1 (see docs/security.md)')
    .option('--workspace <dir>', 'workspace folder (env ARTPROBE_WORKSPACE; default <repo>/workspace)')
    .option(
      '--model <dir|hub-id>',
      `model folder or installed hub id (default ${DEFAULT_MODEL}, pulled when missing)`,
    )
    .option('--port <n>', 'port (0 = any free port, printed on stdout)', intOption('--port', 0, 65535), 8787)
    .option(
      '--host <host>',
      'interface to listen on; beyond loopback a token is required (given or generated)',
      hostName('--host'),
      '127.0.0.1',
    )
    .option(
      '--allow-host <names>',
      'more Host names to answer (e.g. this machine’s DNS name); comma-separated, repeatable',
      collect,
      [],
    )
    .option(
      '--token <token>',
      'token every request must carry (env ARTPROBE_TOKEN, which `ps` does not show; generated when binding beyond loopback)',
      token,
    )
    .option(
      '--allow-private-fetch',
      'let URL / IIIF import fetch loopback, private and link-local addresses (off: refused)',
    )
    .option('--concurrency <n>', 'explanation jobs running at once', intOption('--concurrency', 1, 16), 1)
    .option('--max-upload-mb <n>', 'largest upload in MB', intOption('--max-upload-mb', 1, 4096), 50)
    .option(
      '--max-pixels <n>',
      'largest image accepted, in pixels (checked on the header, then fully decoded)',
      intOption('--max-pixels', 1, 1_000_000_000),
      100_000_000,
    )
    .option(
      '--max-map-pixels <n>',
      'pixel budget of the painting a job works on and of its stored maps (larger paintings are shrunk to it)',
      intOption('--max-map-pixels', 224 * 224, 100_000_000),
      CLI_DEFAULT_MAP_PIXELS,
    )
    .option(
      '--max-tiles <n>',
      'most tiles of a tiles-view job',
      intOption('--max-tiles', 1, CLI_MAX_TILES.max),
      CLI_MAX_TILES.default,
    )
    .option(
      '--max-attempts <n>',
      'starts of a job (restarts after a crash included) before it fails for good',
      intOption('--max-attempts', 1, 100),
      3,
    )
    .option('--models-dir <dir>', 'installed models folder (env ARTPROBE_MODELS)')
    .option('--no-pull', 'never download the default model')
    .action(async (o: ServeOptions) => {
      const { runServe } = await import('../actions/serve.ts');
      await runServe(o);
    });
}
