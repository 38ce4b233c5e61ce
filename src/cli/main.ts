/**
 * The `artprobe` command line. The commands are listed in `./commands/index.ts`; each declares its options
 * without loading heavy packages and imports its implementation when it runs, so `--help` is fast.
 *
 * @example
 * await main(['node', 'artprobe', 'doctor']);
 */
import { Command, Option } from 'commander';
import { VERSION } from '../core/version.ts';
import { ENGINE_KINDS } from '../engine/engine.ts';
import { COMMANDS } from './commands/index.ts';

export type { CommandModule } from './commands/index.ts';

/**
 * Builds the commander program with every command registered and the global options (`--backend`,
 * `--engine`), which the preAction hook copies to ARTPROBE_BACKEND and ARTPROBE_ENGINE.
 *
 * @example
 * buildProgram().parseAsync(['node', 'artprobe', '--engine', 'tfjs', 'doctor']);
 */
export function buildProgram(): Command {
  const program = new Command('artprobe')
    .description('How CLIP sees art: CLIP on TensorFlow.js, saliency maps, probes and expert regions')
    .version(VERSION)
    .option(
      '--backend <name>',
      'tensorflow backend of the tfjs engine: wasm | tensorflow (tfjs-node[-gpu]) | cpu (env ARTPROBE_BACKEND)',
    )
    .addOption(
      new Option(
        '--engine <kind>',
        'CLIP engine of encode, explain, probe zero-shot, report and serve: onnx (ONNX Runtime) | tfjs ' +
          '(TensorFlow.js) (env ARTPROBE_ENGINE; default onnx when onnxruntime-node loads)',
      ).choices(ENGINE_KINDS),
    )
    .showHelpAfterError();
  for (const c of COMMANDS) c.register(program);
  program.hook('preAction', (cmd) => {
    const o = cmd.optsWithGlobals() as { backend?: string; engine?: string };
    if (o.backend) process.env.ARTPROBE_BACKEND = o.backend;
    if (o.engine) process.env.ARTPROBE_ENGINE = o.engine;
  });
  return program;
}

/**
 * Runs the CLI; errors are printed as one clear line (stack with ARTPROBE_DEBUG=1) and exit code 1.
 *
 * @example
 * await main(process.argv);
 */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`artprobe: ${process.env.ARTPROBE_DEBUG ? err.stack : err.message}\n`);
    process.exitCode = 1;
  }
}
