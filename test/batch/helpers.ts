/**
 * Helpers of the batch tests: the CLI as a separate process (from source, through tsx), line by line, and a
 * `describe` that runs only when `redis-server` is installed and the toy data is there (else it is skipped with
 * a loud `!!! SKIPPED` message).
 *
 * @example
 * const w = spawnCli(['worker', '--redis', url, '--verbose']);
 * w.onLine((line) => { if (line.startsWith('done ')) n++; });
 * await w.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'vitest';
import { findRedisServer } from '../../src/batch/redis.ts';
import { repoRoot, sharedPath } from '../helpers/shared-data.ts';

/** The CLI entry that runs from source (`node --import tsx CLI_ENTRY …`). */
export const CLI_ENTRY = join(repoRoot, 'test', 'batch', 'cli-entry.ts');

export interface CliProcess {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  lines: string[];
  onLine(fn: (line: string) => void): void;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * Spawns `artprobe ARGS` from source as its own process.
 *
 * @example
 * const p = spawnCli(['batch', 'status', '--redis', url, '--json']); await p.exited;
 */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (d: string) => {
      buf += d;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        for (const fn of listeners) fn(line);
        i = buf.indexOf('\n');
      }
    });
  }
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => res(code ?? signal ?? -1)),
  );
  return {
    child,
    lines,
    onLine: (fn) => listeners.push(fn),
    exited,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const r = await exited;
        clearTimeout(t);
        return r;
      }
      return exited;
    },
  };
}

/**
 * Runs the CLI to its end; resolves with its exit code and output.
 *
 * @example
 * const { code, stdout } = await runCli(['batch', 'status', '--redis', url, '--json']);
 */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | string; stdout: string; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    output += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const code = await new Promise<number | string>((res) => child.once('exit', (c, s) => res(c ?? s ?? -1)));
  return { code, stdout, output };
}

/**
 * `describe` that needs `redis-server` and the toy data; without them it is skipped with a loud message.
 *
 * @example
 * describeWithRedis('batch', () => { it(...) });
 */
export function describeWithRedis(name: string, fn: () => void): void {
  const missing: string[] = [];
  if (!findRedisServer()) missing.push('redis-server (apt-get install redis-server)');
  for (const p of ['toy/A/model', 'toy/A/eval/images'])
    if (!existsSync(sharedPath(p))) missing.push(`shared data ${sharedPath(p)}`);
  if (missing.length > 0) {
    const msg = `\n!!! SKIPPED "${name}": missing ${missing.join(', ')}\n`;
    console.warn(msg);
    process.stderr.write(msg);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}
