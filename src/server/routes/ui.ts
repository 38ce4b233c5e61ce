/**
 * The web UI at `/`: the built UI (`dist/ui`, served with @fastify/static) when it exists, otherwise a small
 * page saying it is not built and how to build it.
 *
 * @example
 * GET / -> dist/ui/index.html, or the placeholder
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { AppContext, ArtprobeApp } from '../app.ts';

export const DEFAULT_UI_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'dist',
  'ui',
);

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>artprobe</title></head>
<body style="font-family:system-ui;max-width:40em;margin:3em auto">
<h1>artprobe server</h1>
<p>The web UI is not built. Build it with <code>npm run build:ui</code> and reload this page.</p>
<p>The API is available: <a href="/api/health">/api/health</a>, <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>`;

export async function registerUiRoutes(app: ArtprobeApp, ctx: AppContext): Promise<void> {
  const root = ctx.opts.uiDir ?? DEFAULT_UI_DIR;
  if (existsSync(join(root, 'index.html'))) {
    await app.register(fastifyStatic, { root, prefix: '/', index: ['index.html'], dotfiles: 'deny' });
    return;
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(PLACEHOLDER),
  );
}
