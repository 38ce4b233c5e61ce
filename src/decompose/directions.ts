/**
 * Text directions to project a decomposition on: a prompt's normalised text embedding t̂, a contrast
 * `A|B` (t̂_A − t̂_B), or, with `versusRest`, each plain prompt against the mean of the others
 * (t̂_k − mean_{j≠k} t̂_j), which removes what all prompts share (e.g. "a … shape").
 *
 * @example
 * const dirs = await textDirections(clip, ['a red circle', 'a red square', 'a blue circle'], { versusRest: true });
 * dirs[0].label; // 'a red circle − mean(rest)'
 */
import type { TextDirection } from './decompose.ts';

/** How a direction was built, for the JSON output. */
export interface DirectionInfo extends TextDirection {
  kind: 'text' | 'contrast' | 'versus-rest';
  /** Prompts it is made of: [text] or [a, b] or [text, ...rest]. */
  texts: string[];
}

/**
 * Builds directions from prompt specs: `T` is T's unit text embedding, `A|B` is t̂_A − t̂_B. With `versusRest`,
 * every plain prompt k becomes t̂_k − mean_{j≠k} t̂_j over the plain prompts (needs at least two).
 *
 * @example
 * const [d] = await textDirections(clip, ['a baroque painting|a renaissance painting']);
 */
export async function textDirections(
  clip: { encodeText(texts: string[], opts?: { normalize?: boolean }): Promise<Float32Array[]> },
  specs: string[],
  opts: { versusRest?: boolean } = {},
): Promise<DirectionInfo[]> {
  const parsed = specs.map((s) => {
    const parts = s.split('|').map((x) => x.trim());
    if (parts.some((p) => p === '') || parts.length > 2) {
      throw new Error(`--text needs "TEXT" or "A|B" (a contrast), got ${JSON.stringify(s)}`);
    }
    return parts;
  });
  const all = [...new Set(parsed.flat())];
  const emb = new Map<string, Float32Array>();
  if (all.length > 0) {
    const rows = await clip.encodeText(all, { normalize: true });
    all.forEach((t, i) => emb.set(t, rows[i]));
  }
  const vec = (t: string) => emb.get(t) as Float32Array;
  const plain = parsed.filter((p) => p.length === 1).map((p) => p[0]);
  if (opts.versusRest && plain.length < 2) {
    throw new Error(
      '--versus-rest needs at least two plain --text prompts (each is contrasted with the mean of the others)',
    );
  }
  return parsed.map((p): DirectionInfo => {
    if (p.length === 2) {
      const a = vec(p[0]);
      const b = vec(p[1]);
      return {
        kind: 'contrast',
        label: `${p[0]} − ${p[1]}`,
        texts: p,
        vector: Float64Array.from(a, (x, i) => x - b[i]),
      };
    }
    const t = vec(p[0]);
    if (!opts.versusRest) return { kind: 'text', label: p[0], texts: p, vector: Float64Array.from(t) };
    const rest = plain.filter((q) => q !== p[0]);
    const v = Float64Array.from(t);
    for (const q of rest) {
      const r = vec(q);
      for (let i = 0; i < v.length; i++) v[i] -= r[i] / rest.length;
    }
    return { kind: 'versus-rest', label: `${p[0]} − mean(rest)`, texts: [p[0], ...rest], vector: v };
  });
}
