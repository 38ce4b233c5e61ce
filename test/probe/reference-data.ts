/**
 * Shared loaders for the probe parity tests: the two embedding tables, the sklearn reference numbers
 * (results.json), the fixed splits (splits.json) and the README numbers that are not in results.json.
 * Everything is read at test time from the shared data folder.
 *
 * @example
 * const { ngd, ai, ref, splits } = await loadReference();
 */
import { readFileSync } from 'node:fs';
import { type EmbeddingSet, loadEmbeddings } from '../../src/probe/embeddings.ts';
import { sharedPath } from '../helpers/shared-data.ts';

export const NEEDS = [
  'data/clip-art-embeddings/ngd.parquet',
  'data/clip-art-embeddings/ai_pastiche.parquet',
  'data/probe-reference/results.json',
];
export const COLUMN = 'ViT-L/14@336px';

// biome-ignore lint/suspicious/noExplicitAny: reference JSON is free-form
export type Json = any;

export interface Reference {
  ngd: EmbeddingSet;
  ai: EmbeddingSet;
  ref: Json;
  splits: Json;
  readme: string;
}

/**
 * Loads embeddings and reference files.
 *
 * @example
 * const r = await loadReference(); r.ref['4_linear_probes'].ai_style.accuracy_pooled_oof;
 */
export async function loadReference(): Promise<Reference> {
  const dir = sharedPath('data', 'probe-reference');
  const [ngd, ai] = await Promise.all([
    loadEmbeddings(sharedPath('data', 'clip-art-embeddings', 'ngd.parquet'), { column: COLUMN }),
    loadEmbeddings(sharedPath('data', 'clip-art-embeddings', 'ai_pastiche.parquet'), { column: COLUMN }),
  ]);
  return {
    ngd,
    ai,
    ref: JSON.parse(readFileSync(`${dir}/results.json`, 'utf8')),
    splits: JSON.parse(readFileSync(`${dir}/splits.json`, 'utf8')),
    readme: readFileSync(`${dir}/README.md`, 'utf8'),
  };
}

/**
 * Prompt-leakage numbers that exist only in the README ("AI style drops to 0.3610 (macro-F1 0.150)").
 *
 * @example
 * readmeGrouped(readme, 'AI style'); // { accuracy: 0.361, macroF1: 0.15 }
 */
export function readmeGrouped(
  readme: string,
  probe: 'AI style' | 'AI period',
): { accuracy: number; macroF1: number } {
  const m = new RegExp(`${probe} drops to ([0-9.]+) \\(macro-F1 ([0-9.]+)\\)`).exec(readme);
  if (!m) throw new Error(`README has no prompt-grouped number for ${probe}`);
  return { accuracy: Number(m[1]), macroF1: Number(m[2]) };
}

/** Prints measured vs reference so the test log doubles as a parity report. */
export function logParity(name: string, measured: number, reference: number): void {
  console.log(
    `${name.padEnd(46)} measured ${measured.toFixed(6)}  reference ${reference.toFixed(6)}  diff ${(measured - reference).toExponential(2)}`,
  );
}
