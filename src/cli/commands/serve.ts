/**
 * `artprobe serve`: the long-running server for the web UI and for scripts (HTTP + JSON, OpenAPI at
 * /api/openapi.json). Listens on 127.0.0.1 unless `--host` says otherwise (with a warning). With no `--model`
 * it uses openai/clip-vit-base-patch32, pulling it from the hub when it is not installed; offline it explains
 * how to install a model and serves everything else.
 *
 * @example
 * artprobe serve
 * artprobe serve --workspace ~/art-ws --model ../shared/toy/A/model --port 0   # prints the chosen port
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { defaultModelsDir, isModelComplete, modelDirFor } from '../../core/model-store.ts';
import { buildApp } from '../../server/app.ts';

export const DEFAULT_MODEL = 'openai/clip-vit-base-patch32';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Default workspace: `$ARTPROBE_WORKSPACE`, else `<repo>/workspace`. */
export function defaultWorkspaceDir(): string {
  return process.env.ARTPROBE_WORKSPACE
    ? resolve(process.env.ARTPROBE_WORKSPACE)
    : join(repoRoot, 'workspace');
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name} must be an integer in ${min}..${max}, got "${v}"`);
    return n;
  };
}

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
    .action(async (o) => {
      const workspace = resolve(o.workspace ?? defaultWorkspaceDir());
      const modelsDir = defaultModelsDir(o.modelsDir);
      let model: string | undefined = o.model;
      let pullDefault = false;
      const hint = `no model is loaded: install one with \`artprobe model pull ${DEFAULT_MODEL}\` (or copy a CLIP folder into ${modelDirFor(DEFAULT_MODEL, modelsDir)}) and restart, or start with --model <folder>`;
      if (!model) {
        model = DEFAULT_MODEL;
        pullDefault = !(await isModelComplete(modelDirFor(DEFAULT_MODEL, modelsDir)));
      }
      const app = await buildApp({
        workspace,
        model: pullDefault ? undefined : model,
        modelsDir,
        concurrency: o.concurrency,
        maxUploadBytes: o.maxUploadMb * 1024 * 1024,
        backend: process.env.ARTPROBE_BACKEND,
        logger: { level: 'warn', stream: process.stderr },
        modelHint: hint,
      });
      if (!LOOPBACK.has(o.host))
        process.stderr.write(
          `warning: listening on ${o.host}, not loopback: anyone who can reach this machine can use the API and read the workspace\n`,
        );
      const address = await app.listen({ port: o.port, host: o.host });
      const port = (app.server.address() as { port: number }).port;
      process.stdout.write(`artprobe: listening on ${address} (port ${port}), workspace ${workspace}\n`);
      const stop = async (signal: string) => {
        process.stdout.write(`artprobe: ${signal}, stopping (unfinished jobs resume at the next start)\n`);
        await app.close().catch(() => undefined);
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      const ctx = app.artprobe;
      if (pullDefault) {
        if (o.pull === false) {
          process.stderr.write(`artprobe: ${hint}\n`);
          return;
        }
        process.stderr.write(
          `artprobe: model ${DEFAULT_MODEL} is not installed; pulling it from the hub into ${modelsDir}\n`,
        );
        try {
          const { pullModel } = await import('../../core/hub.ts');
          await pullModel(DEFAULT_MODEL, { modelsDir });
          await ctx.switchModel(modelDirFor(DEFAULT_MODEL, modelsDir));
        } catch (e) {
          process.stderr.write(
            `artprobe: could not pull ${DEFAULT_MODEL} (${(e as Error).message.split('\n')[0]})\nartprobe: ${hint}\nartprobe: serving the UI with model features disabled\n`,
          );
          return;
        }
      }
      const info = await ctx.modelReady;
      if (ctx.host.state === 'ready' && ctx.host.info) {
        const i = ctx.host.info;
        process.stdout.write(
          `artprobe: model ${i.id} ready (${i.backend.name} backend, weights ${i.fingerprint.slice(0, 12)})\n`,
        );
      } else if (!info && !pullDefault) {
        process.stderr.write(`artprobe: model ${model} could not be loaded: ${ctx.host.error}\n`);
      }
    });
}
