#!/usr/bin/env node
// Bundles the web UI (Lit + d3, src/ui/main.ts) with esbuild into dist/ui/app.js and copies src/ui/index.html.
// `artprobe serve` serves dist/ui at /. Usage: node scripts/build-ui.mjs [--outdir DIR] [--dev]
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outdir = resolve(args.includes('--outdir') ? args[args.indexOf('--outdir') + 1] : join(root, 'dist', 'ui'));
const dev = args.includes('--dev');
await mkdir(outdir, { recursive: true });
const t0 = performance.now();
const result = await build({
  entryPoints: [join(root, 'src', 'ui', 'main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: join(outdir, 'app.js'),
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  metafile: true,
  logLevel: 'warning',
});
await copyFile(join(root, 'src', 'ui', 'index.html'), join(outdir, 'index.html'));
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`built ${outdir}/app.js (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - t0).toFixed(0)} ms`);
