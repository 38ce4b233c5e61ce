/**
 * The work of `artprobe serve` (options are declared in `../commands/serve.ts`): starts the server for the web
 * UI and the HTTP API, pulling the default model when it is missing.
 *
 * @example
 * await runServe({ port: 0, host: '127.0.0.1', concurrency: 1, maxUploadMb: 50, pull: false });
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultModelsDir, isModelComplete, modelDirFor } from '../../core/model-store.ts';
import { buildApp } from '../../server/app.ts';
import { DEFAULT_MODEL } from '../commands/serve.ts';

/** Options of `artprobe serve`, as commander parses them. */
export interface ServeOptions {
  workspace?: string;
  model?: string;
  port: number;
  host: string;
  concurrency: number;
  maxUploadMb: number;
  modelsDir?: string;
  /** false with `--no-pull`. */
  pull: boolean;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Default workspace: `$ARTPROBE_WORKSPACE`, else `<repo>/workspace`.
 *
 * @example
 * defaultWorkspaceDir(); // '/work/main/workspace'
 */
export function defaultWorkspaceDir(): string {
  return process.env.ARTPROBE_WORKSPACE
    ? resolve(process.env.ARTPROBE_WORKSPACE)
    : join(repoRoot, 'workspace');
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Runs `artprobe serve` until SIGINT or SIGTERM.
 *
 * @example
 * await runServe(options);
 */
export async function runServe(o: ServeOptions): Promise<void> {
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
}
