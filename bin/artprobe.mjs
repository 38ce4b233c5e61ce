#!/usr/bin/env node
// Launcher: runs the compiled CLI (dist/cli/main.js, built by `npm run build`; npm install/ci builds it too).
//
// onnxruntime-node 1.30 crashes (SIGSEGV while creating its first session) when the process's own command line is
// longer than ~25 KB, e.g. `--image paintings/*.jpg` over a large folder. A long command line is therefore handed
// to a child process through a private temporary file instead of argv.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LONG_COMMAND_LINE = 8192;
const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`artprobe: not built (no ${fileURLToPath(entry)}): run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
let argv = process.argv;
const argsFile = process.env.ARTPROBE_ARGS_FILE;
if (argsFile) {
  argv = [process.argv[0], process.argv[1], ...JSON.parse(readFileSync(argsFile, 'utf8'))];
  delete process.env.ARTPROBE_ARGS_FILE;
} else if (argv.reduce((a, x) => a + Buffer.byteLength(x) + 1, 0) > LONG_COMMAND_LINE) {
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-args-'));
  const file = join(dir, 'argv.json');
  writeFileSync(file, JSON.stringify(argv.slice(2)), { mode: 0o600 });
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, ARTPROBE_ARGS_FILE: file },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    rmSync(dir, { recursive: true, force: true });
    if (signal) process.kill(process.pid, signal);
    process.exit(code ?? 1);
  });
  await new Promise(() => {}); // the child's exit ends this process
}
if (process.env.ARTPROBE_DEBUG) process.setSourceMapsEnabled(true); // stacks point into src/*.ts
const { main } = await import(entry.href);
await main(argv);
