/**
 * The `artprobe` command line. Every file in `./commands/` exports `register(program)` and adds one
 * command (or a group of subcommands); this entry point discovers them, so commands stay independent.
 *
 * @example
 * await main(['node', 'artprobe', 'doctor']);
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

/** Builds the commander program with every command registered. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('artprobe')
    .description('How CLIP sees art: CLIP on TensorFlow.js, saliency maps, probes and expert regions')
    .version('0.1.0')
    .option(
      '--backend <name>',
      'tensorflow backend: wasm | tensorflow (tfjs-node[-gpu]) | cpu (env ARTPROBE_BACKEND)',
    )
    .showHelpAfterError();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as CommandModule;
    if (typeof mod.register === 'function') mod.register(program);
  }
  program.hook('preAction', (cmd) => {
    const b = cmd.optsWithGlobals().backend as string | undefined;
    if (b) process.env.ARTPROBE_BACKEND = b;
  });
  return program;
}

/** Runs the CLI; errors are printed as one clear line (stack with ARTPROBE_DEBUG=1) and exit code 1. */
export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`artprobe: ${process.env.ARTPROBE_DEBUG ? err.stack : err.message}\n`);
    process.exitCode = 1;
  }
}
