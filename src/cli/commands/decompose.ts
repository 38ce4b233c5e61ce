/**
 * `artprobe decompose`: the direct contributions of every layer, attention head, MLP and embedding term to a
 * painting's CLIP image embedding, their scores on text directions and each head's map over the painting
 * (Gandelsman et al., ICLR 2024); `artprobe decompose heads`: the vocabulary descriptions that explain each head
 * of the last layers over a collection (TextSpan). `--model`, `--out` and `--json` belong to `decompose` and are
 * shared by `heads`. The work is in `../actions/decompose.ts`, loaded only when the command runs.
 *
 * @example
 * artprobe decompose --model ../shared/toy/A/model --image img_001.png --text "a red circle" "a blue square" \
 *   --versus-rest --out out/decompose
 * artprobe decompose heads --model M --images paintings/ --vocabulary vocabularies/art-descriptions.txt --out out/heads
 */
import type { Command } from 'commander';
import type { DecomposeCliOptions, HeadsCliOptions } from '../actions/decompose.ts';

function parseIntOpt(name: string, min: number): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    return x;
  };
}

/**
 * Parses `--layers 8,9,10,11` into layer indices.
 *
 * @example
 * parseLayers('2,3'); // [2, 3]
 */
export function parseLayers(v: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new Error(`--layers needs comma-separated layer indices (0-based), got '${v}'`);
  }
  return out;
}

/**
 * Adds `artprobe decompose` and `artprobe decompose heads`.
 *
 * @example
 * register(new Command('artprobe'));
 */
export function register(program: Command): void {
  const decompose = program
    .command('decompose')
    .description(
      'per layer × head (and MLP, embedding) direct contributions to the image embedding, their text-direction ' +
        'scores and per-head maps over the painting (Gandelsman et al. 2024); `decompose heads` names heads',
    )
    .requiredOption('--model <dir|hub-id>', 'model folder or installed hub id')
    .option('--image <files...>', 'painting files')
    .option('--text <texts...>', 'text directions: "TEXT" (its unit embedding) or "A|B" (t̂_A − t̂_B)', [])
    .option(
      '--versus-rest',
      'each plain --text minus the mean of the other plain texts (t̂_k − mean_{j≠k} t̂_j)',
    )
    .option('--view <kind>', "crop (CLIP's centre crop) or pad (letterboxed painting)", 'crop')
    .option(
      '--top-heads <n>',
      'overlays for this many heads per direction (by |score|)',
      parseIntOpt('top-heads', 0),
      6,
    )
    .option('--opacity <f>', 'overlay opacity 0..1', Number.parseFloat, 0.6)
    .requiredOption('--out <dir>', 'output folder (decomposition.json, maps, overlays, manifest.json)')
    .option('--json', 'print the JSON to stdout')
    .action(async (o: DecomposeCliOptions) => {
      const { runDecompose } = await import('../actions/decompose.ts');
      await runDecompose(o);
    });
  decompose
    .command('heads')
    .description(
      'for each head of the last layers, the vocabulary descriptions that explain most variance of its ' +
        'outputs over a collection (TextSpan); uses --model, --out and --json of decompose',
    )
    .requiredOption('--images <dir>', 'folder of images (the collection)')
    .option('--vocabulary <file>', 'descriptions, one per line (default: vocabularies/art-descriptions.txt)')
    .option(
      '--layers <list>',
      'layers to analyse, 0-based, comma-separated (default: the last --last-layers)',
      parseLayers,
    )
    .option('--last-layers <n>', 'how many final layers to analyse', parseIntOpt('last-layers', 1), 4)
    .option('--texts-per-head <n>', 'descriptions picked per head', parseIntOpt('texts-per-head', 1), 5)
    .option(
      '--rank <n>',
      'principal directions of the head outputs the texts are projected on',
      parseIntOpt('rank', 1),
      80,
    )
    .option('--limit <n>', 'use only the first n images of the folder', parseIntOpt('limit', 2))
    .option('--quiet', 'no progress bar')
    .configureHelp({ showGlobalOptions: true })
    .action(async (o: HeadsCliOptions, cmd: Command) => {
      const { runDecomposeHeads } = await import('../actions/decompose.ts');
      await runDecomposeHeads({ ...cmd.optsWithGlobals(), ...o } as HeadsCliOptions);
    });
}
