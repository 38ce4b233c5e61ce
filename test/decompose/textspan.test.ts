/**
 * TextSpan finds planted directions and reports monotone explained variance; the shipped vocabulary parses;
 * head roles on toy A name colour/shape descriptions for the heads that carry them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClip } from '../../src/core/clip.ts';
import { createRng } from '../../src/core/rng.ts';
import { ClipDecomposer } from '../../src/decompose/decompose.ts';
import { headRoles, listImages } from '../../src/decompose/heads.ts';
import { textSpan } from '../../src/decompose/textspan.ts';
import { DEFAULT_VOCABULARY, loadVocabulary, parseVocabulary } from '../../src/decompose/vocabulary.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

function unitRows(m: number, e: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(m * e);
  for (let j = 0; j < m; j++) {
    let n = 0;
    for (let k = 0; k < e; k++) {
      out[j * e + k] = rng.normal();
      n += out[j * e + k] ** 2;
    }
    for (let k = 0; k < e; k++) out[j * e + k] /= Math.sqrt(n);
  }
  return out;
}

describe('TextSpan', () => {
  it('recovers the directions a head varies along, strongest first, with monotone explained variance', () => {
    const e = 16;
    const m = 40;
    const n = 200;
    const texts = unitRows(m, e, 1);
    const labels = Array.from({ length: m }, (_, j) => `text ${j}`);
    const rng = createRng(2);
    // outputs vary along texts 7 (std 3) and 21 (std 1.5), plus small isotropic noise and a constant offset
    const data = new Float64Array(n * e);
    for (let i = 0; i < n; i++) {
      const a = 3 * rng.normal();
      const b = 1.5 * rng.normal();
      for (let k = 0; k < e; k++) {
        data[i * e + k] = 5 + a * texts[7 * e + k] + b * texts[21 * e + k] + 0.05 * rng.normal();
      }
    }
    const res = textSpan(data, n, texts, labels, { iterations: 4, rank: 8 });
    expect(res.picks.map((p) => p.index).slice(0, 2)).toEqual([7, 21]);
    expect(res.picks[1].varianceExplained).toBeGreaterThan(0.95);
    for (let i = 1; i < res.picks.length; i++) {
      expect(res.picks[i].varianceExplained).toBeGreaterThanOrEqual(
        res.picks[i - 1].varianceExplained - 1e-12,
      );
      expect(res.picks[i].varianceExplained).toBeLessThanOrEqual(1 + 1e-12);
    }
    expect(res.rank).toBe(8);
  });

  it('works when images outnumber dimensions and when dimensions outnumber images', () => {
    const texts = unitRows(10, 6, 3);
    const labels = Array.from({ length: 10 }, (_, j) => `t${j}`);
    const few = textSpan(unitRows(4, 6, 4), 4, texts, labels, { iterations: 3 });
    expect(few.rank).toBeLessThanOrEqual(3); // centred rank of 4 rows
    expect(few.picks).toHaveLength(3);
    expect(() => textSpan(new Float64Array(6), 1, texts, labels)).toThrow(/at least 2 images/);
  });
});

describe('vocabularies', () => {
  it('the shipped art vocabulary parses: a few hundred descriptions in the documented categories', async () => {
    const v = await loadVocabulary(DEFAULT_VOCABULARY);
    expect(v.entries.length).toBeGreaterThanOrEqual(300);
    for (const c of ['style', 'period', 'technique', 'medium', 'subject', 'material', 'ai-artifact']) {
      expect(v.categories).toContain(c);
    }
    expect(v.entries.every((e) => e.text.length > 0 && e.text.length < 120)).toBe(true);
  });

  it('format: comments, categories, blank lines; duplicates and empty files are errors', () => {
    const v = parseVocabulary(
      '# a comment\nfirst line\n\n[style]\nA Baroque painting.\n  [period]  \nAn old master painting.\n',
    );
    expect(v.entries.map((e) => [e.text, e.category, e.line])).toEqual([
      ['first line', 'uncategorised', 2],
      ['A Baroque painting.', 'style', 5],
      ['An old master painting.', 'period', 7],
    ]);
    expect(() => parseVocabulary('a\nA\n', 'v.txt')).toThrow(/v.txt:2: "A" repeats line 1/);
    expect(() => parseVocabulary('# nothing\n', 'v.txt')).toThrow(/no descriptions/);
  });
});

describeShared('head roles on toy A', ['toy/A'], () => {
  it('names the heads of the last layers with colour and shape descriptions', async () => {
    const clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs', backend: 'wasm' });
    const dec = await ClipDecomposer.forClip(clip);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
      const file = join(dir, 'v.txt');
      writeFileSync(
        file,
        '[shape]\na red circle\na green square\na blue triangle\na circle\na square\na triangle\n' +
          '[distractor]\na portrait of a man\na ship in a storm\nan oil painting\na cat\n',
      );
      const images = listImages(sharedPath('toy/A/eval/images')).slice(0, 60);
      const res = await headRoles(clip, dec, images, await loadVocabulary(file), {
        lastLayers: 1,
        iterations: 2,
      });
      expect(res.layers).toEqual([clip.config.vision.layers - 1]);
      expect(res.heads).toHaveLength(clip.config.vision.heads);
      expect(res.reconstructionError).toBeLessThan(1e-4);
      // the head that carries most variance is explained mostly by shape/colour descriptions
      const top = [...res.heads].sort((a, b) => b.variance - a.variance)[0];
      expect(top.picks[0].category).toBe('shape');
      expect(top.picks[1].varianceExplained).toBeGreaterThan(0.3);
      console.log(
        res.heads
          .map(
            (h) =>
              `L${h.layer}H${h.head} (${h.varianceShare.toFixed(3)}): ${h.picks.map((p) => `${p.text} ${p.varianceExplained.toFixed(2)}`).join('; ')}`,
          )
          .join('\n'),
      );
    } finally {
      dec.dispose();
      clip.dispose();
    }
  });
});
