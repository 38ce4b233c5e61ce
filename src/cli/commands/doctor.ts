/**
 * `artprobe doctor`: which CLIP engine runs and why (ONNX Runtime or TensorFlow.js), which TensorFlow.js
 * backend the tfjs engine uses, and what is installed. The work is in `../actions/doctor.ts`, loaded only
 * when the command runs.
 *
 * @example
 * artprobe doctor --json
 * artprobe --engine tfjs doctor
 */
import type { Command } from 'commander';

/**
 * Adds `artprobe doctor`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'report the CLIP engine, the TensorFlow.js backend (tfjs engine), Node.js version and installed models',
    )
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { runDoctor } = await import('../actions/doctor.ts');
      await runDoctor({ ...opts, engine: cmd.optsWithGlobals().engine as string | undefined });
    });
}
