#!/usr/bin/env node
// Launcher: runs the compiled CLI (dist/cli/main.js, built by `npm run build`; npm install/ci builds it too).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`artprobe: not built (no ${fileURLToPath(entry)}): run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
if (process.env.ARTPROBE_DEBUG) process.setSourceMapsEnabled(true); // stacks point into src/*.ts
const { main } = await import(entry.href);
await main(process.argv);
