/**
 * `artprobe explain --text-relevance`: the manifest entries of prompt targets carry `text_relevance:
 * [{token, value}]` (the prompt's tokens as strings, shares summing to 1), equal to the library's result, and
 * the LeGrad and Grad-ECLIP maps are written as every other method's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { explainTextRelevance } from '../../src/attribution/text-relevance.ts';
import { type ExplainOptions, runExplain, type TextRelevanceEntry } from '../../src/cli/actions/explain.ts';
import { loadClip } from '../../src/core/clip.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbsDiff, useWasm } from '../helpers/tensors.ts';

describeShared('artprobe explain --text-relevance', ['toy/A'], () => {
  let out: string;
  const image = sharedPath('toy/A/eval/images/img_003.png');
  const options = (o: Partial<ExplainOptions>): ExplainOptions => ({
    model: sharedPath('toy/A/model'),
    image: [image],
    prompt: ['a red circle'],
    contrast: ['a red circle|a blue square'],
    ensemble: [],
    method: 'legrad,grad-eclip',
    view: 'crop',
    tileOverlap: 0.25,
    param: [],
    opacity: 0.6,
    out,
    quiet: true,
    textRelevance: true,
    ...o,
  });
  beforeAll(async () => {
    await useWasm();
    out = mkdtempSync(join(tmpdir(), 'artprobe-text-relevance-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it('adds text_relevance to the entries of prompt targets', async () => {
    const said: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      said.push(String(s));
      return true;
    });
    await runExplain(options({}));
    expect(said.join('')).toMatch(/wrote 4 maps and the token relevance of 1 prompt\(s\)/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      entries: TextRelevanceEntry[];
    };
    expect(manifest.entries.map((e) => e.method).sort()).toEqual([
      'grad-eclip',
      'grad-eclip',
      'legrad',
      'legrad',
    ]);
    const withWords = manifest.entries.filter((e) => e.text_relevance);
    expect(withWords.map((e) => e.target_spec.kind)).toEqual(['prompt', 'prompt']);
    const words = withWords[0].text_relevance ?? [];
    expect(words.map((w) => w.token)).toEqual(['a', 'red', 'circle']);
    expect(words.reduce((a, w) => a + w.value, 0)).toBeCloseTo(1, 5);
    expect(withWords[1].text_relevance).toEqual(words);
    // the same as the library on the same view
    const clip = await loadClip(sharedPath('toy/A/model'));
    try {
      const [lib] = await explainTextRelevance(clip, { image, prompts: ['a red circle'] });
      expect(
        maxAbsDiff(
          lib.tokens.map((t) => t.value),
          words.map((w) => w.value),
        ),
      ).toBeLessThan(1e-6);
    } finally {
      clip.dispose();
    }
  });

  it('needs a prompt target', async () => {
    await expect(runExplain(options({ prompt: [] }))).rejects.toThrow(
      /--text-relevance .* give at least one --prompt/,
    );
  });
});
