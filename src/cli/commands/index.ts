/**
 * Every `artprobe` command, in the order `--help` lists them. Each module declares its options and
 * description without loading heavy packages (TensorFlow.js, onnxruntime, sharp, fastify, SQLite); its action
 * imports the implementation from `../actions/` when the command runs, so `artprobe --help` starts fast.
 *
 * @example
 * for (const c of COMMANDS) c.register(program);
 */
import type { Command } from 'commander';
import * as batch from './batch.ts';
import * as decompose from './decompose.ts';
import * as doctor from './doctor.ts';
import * as encode from './encode.ts';
import * as explain from './explain.ts';
import * as model from './model.ts';
import * as probe from './probe.ts';
import * as regions from './regions.ts';
import * as report from './report.ts';
import * as serve from './serve.ts';
import * as steer from './steer.ts';
import * as worker from './worker.ts';
import * as zeroShot from './zero-shot.ts';

/** A command module: `register` adds one command (or a group of subcommands) to the program. */
export interface CommandModule {
  register(program: Command): void;
}

/**
 * The command modules. `probe` comes before `zeroShot`, which adds `probe zero-shot` to its group.
 *
 * @example
 * COMMANDS.forEach((c) => c.register(program));
 */
export const COMMANDS: readonly CommandModule[] = [
  batch,
  decompose,
  doctor,
  encode,
  explain,
  model,
  probe,
  regions,
  report,
  serve,
  steer,
  worker,
  zeroShot,
];
