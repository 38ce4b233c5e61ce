/**
 * The work of `artprobe serve` (options are declared in `../commands/serve.ts`): starts the server for the web
 * UI and the HTTP API, pulling the default model when it is missing. Beyond loopback it requires a token
 * (`--token`, `ARTPROBE_TOKEN`, or one generated and printed once) and prints a one-time sign-in link for the
 * browser. The start-up line names the address really bound. Every start-up failure (workspace in use by
 * another server, damaged database, port in use, address not available) is one line on stderr and exit
 * code 1, at once.
 *
 * @example
 * await runServe({ port: 0, host: '127.0.0.1', allowHost: [], concurrency: 1, maxUploadMb: 50, pull: false });
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { defaultModelsDir, isModelComplete, modelDirFor } from '../../core/model-store.ts';
import { buildApp } from '../../server/app.ts';
import { isLoopbackHost } from '../../server/security.ts';
import { DEFAULT_MODEL } from '../commands/serve.ts';

/** Options of `artprobe serve`, as commander parses them. */
export interface ServeOptions {
  workspace?: string;
  model?: string;
  port: number;
  host: string;
  /** More Host names to answer. */
  allowHost?: string[];
  /** The token (else `ARTPROBE_TOKEN`, else generated when binding beyond loopback). */
  token?: string;
  allowPrivateFetch?: boolean;
  concurrency: number;
  maxUploadMb: number;
  maxPixels?: number;
  maxMapPixels?: number;
  maxTiles?: number;
  maxAttempts?: number;
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

/** Prints a start-up failure as one line and exits with 1 at once (nothing is left running). */
function startupFailure(message: string): never {
  process.stderr.write(`artprobe: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

/**
 * A clear message for an error of `listen`.
 *
 * @example
 * listenErrorMessage(Object.assign(new Error('x'), { code: 'EADDRINUSE' }), '127.0.0.1', 8787);
 * // 'cannot listen on 127.0.0.1:8787: the port is already in use (…); stop it or choose another --port …'
 */
export function listenErrorMessage(e: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (e.code === 'EADDRINUSE')
    return `cannot listen on ${where}: the port is already in use (by another artprobe serve or another program); stop it or choose another --port (0 picks a free one)`;
  if (e.code === 'EACCES')
    return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose another --port`;
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return `cannot listen on ${where}: ${host} is not an address of this machine; check --host`;
  return `cannot listen on ${where}: ${e.message}`;
}

/** `http://host:port` of a bound address (IPv6 in brackets). */
function urlOf(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** Where a browser on another machine would reach a server bound to every interface. */
function publicAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((a) => !a.internal && a.family === 'IPv4')
    .map((a) => a.address);
}

/**
 * Runs `artprobe serve` until SIGINT or SIGTERM.
 *
 * @example
 * await runServe(options);
 */
export async function runServe(o: ServeOptions): Promise<void> {
  const workspace = resolve(o.workspace ?? defaultWorkspaceDir());
  let token = o.token ?? (process.env.ARTPROBE_TOKEN || undefined);
  if (token !== undefined && (token.length < 16 || /\s/.test(token)))
    startupFailure('the token (--token or ARTPROBE_TOKEN) must be at least 16 characters without spaces');
  const loopback = isLoopbackHost(o.host);
  let generated = false;
  if (!loopback && !token) {
    token = randomBytes(32).toString('base64url');
    generated = true;
  }
  const modelsDir = defaultModelsDir(o.modelsDir);
  let model: string | undefined = o.model;
  let pullDefault = false;
  const hint = `no model is loaded: install one with \`artprobe model pull ${DEFAULT_MODEL}\` (or copy a CLIP folder into ${modelDirFor(DEFAULT_MODEL, modelsDir)}) and restart, or start with --model <folder>`;
  if (!model) {
    model = DEFAULT_MODEL;
    pullDefault = !(await isModelComplete(modelDirFor(DEFAULT_MODEL, modelsDir)));
  }
  let app: FastifyInstance;
  try {
    app = await buildApp({
      workspace,
      model: pullDefault ? undefined : model,
      modelsDir,
      concurrency: o.concurrency,
      maxUploadBytes: o.maxUploadMb * 1024 * 1024,
      maxPixels: o.maxPixels,
      maxMapPixels: o.maxMapPixels,
      maxTiles: o.maxTiles,
      maxAttempts: o.maxAttempts,
      host: o.host,
      allowHosts: o.allowHost ?? [],
      token,
      allowPrivateFetch: o.allowPrivateFetch === true,
      backend: process.env.ARTPROBE_BACKEND,
      logger: { level: 'warn', stream: process.stderr },
      modelHint: hint,
    });
  } catch (e) {
    return startupFailure((e as Error).message);
  }
  try {
    await app.listen({ port: o.port, host: o.host });
  } catch (e) {
    await app.close().catch(() => undefined);
    return startupFailure(listenErrorMessage(e as NodeJS.ErrnoException, o.host, o.port));
  }
  const bound = app.server.address() as AddressInfo;
  const port = bound.port;
  const everywhere = bound.address === '0.0.0.0' || bound.address === '::';
  process.stdout.write(
    `artprobe: listening on ${urlOf(bound.address, port)} (port ${port}${
      everywhere
        ? `, every interface: ${
            publicAddresses()
              .map((a) => urlOf(a, port))
              .join(', ') || 'none besides loopback'
          }`
        : ''
    }), workspace ${workspace}\n`,
  );
  if (token) {
    if (generated)
      process.stdout.write(
        `artprobe: token ${token} (generated now and shown only once; scripts send "Authorization: Bearer <token>"; choose your own with ARTPROBE_TOKEN)\n`,
      );
    const show = everywhere ? (publicAddresses()[0] ?? '127.0.0.1') : bound.address;
    process.stdout.write(
      `artprobe: sign in from a browser with this one-time link: ${urlOf(show, port)}${app.artprobe.security.loginPath()}\n`,
    );
  }
  if (!loopback)
    process.stderr.write(
      `note: listening on ${bound.address}, beyond loopback: every request needs the token; traffic is plain HTTP (see docs/security.md)\n`,
    );
  if (o.token)
    process.stderr.write(
      'note: a --token on the command line is visible to other users of this machine (ps); prefer ARTPROBE_TOKEN\n',
    );
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
