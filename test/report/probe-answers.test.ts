import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { decodeImage } from '../../src/core/image-decode.ts';
import { resolveSuites, type Suite, selectDimensions } from '../../src/probe/suites.ts';
import { DEFAULT_LOGIT_SCALE, runZeroShot, type ZeroShotResult } from '../../src/probe/zero-shot.ts';
import { collectReportData } from '../../src/report/build-report.ts';
import { computeProbeAnswers, probeAnswersOf } from '../../src/report/probe-answers.ts';
import type { ProbeAnswer } from '../../src/report/report-data.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const IMAGES = ['hokusai-great-wave-off-kanagawa-c1831.jpg', 'ai-sd-otter-steampunk-portrait-2022.png'];
const DIMENSIONS = ['style', 'century', 'defect']; // the report's default
const file = (name: string) => sharedPath('paintings', name);

/** Checks report answers against a runZeroShot result: every label's probability, bit for bit, and the order. */
function expectSameAnswers(report: ProbeAnswer[], zs: ZeroShotResult, image = 0): void {
  expect(report.map((a) => a.dimension)).toEqual(zs.dimensions.map((d) => d.name));
  for (const [di, d] of zs.dimensions.entries()) {
    const answer = zs.images[image].answers[d.name];
    const top = report[di].top;
    expect(top.map((t) => t.label).sort()).toEqual(d.labels.map((l) => l.id).sort());
    // probabilities of every label: the same computation (ONNX Runtime may round differently by 1e-7 relative when
    // an image is embedded in another batch size)
    const byLabel = new Map(top.map((t) => [t.label, t.p]));
    d.labels.forEach((l, k) =>
      expect(Math.abs((byLabel.get(l.id) as number) - answer.probabilities[k])).toBeLessThanOrEqual(
        1e-5 * Math.max(answer.probabilities[k], 1e-3),
      ),
    );
    // the ranking the CLI and the server show (their top-k) is the report's first k
    expect(top.slice(0, answer.ranked.length).map((t) => t.label)).toEqual(answer.ranked.map((r) => r.label));
  }
}

describeShared(
  'report probe answers = probe module (toy model)',
  ['toy/A/model', ...IMAGES.map((f) => `paintings/${f}`)],
  () => {
    let clip: Clip;
    let suites: Suite[];

    beforeAll(async () => {
      clip = await loadClip(sharedPath('toy', 'A', 'model'));
      suites = await resolveSuites();
    });
    afterAll(() => clip?.dispose());

    it('computeProbeAnswers equals runZeroShot with the CLI and server defaults, for a decoded image', async () => {
      // what `artprobe probe zero-shot --image F --dimension style,century,defect` and the server's
      // POST /api/paintings/:id/probe compute (they pass the file; default scale and topK)
      const zs = await runZeroShot(clip, IMAGES.map(file), suites, DIMENSIONS);
      expect(zs.logitScale).toBe(DEFAULT_LOGIT_SCALE);
      const dims = selectDimensions(suites, DIMENSIONS);
      for (const [i, name] of IMAGES.entries()) {
        // the report decodes each painting once (for its maps) and hands the decoded pixels over
        const decoded = await decodeImage(file(name), { maxPixels: clip.maxPixels });
        const [answers] = await computeProbeAnswers(clip, [decoded], dims);
        expectSameAnswers(answers, zs, i);
      }
      // several images at once, by path, the same
      const both = await computeProbeAnswers(clip, IMAGES.map(file), dims);
      both.forEach((answers, i) => expectSameAnswers(answers, zs, i));
    });

    it('the static report shows the same answers', async () => {
      const data = await collectReportData(clip, {
        images: [file(IMAGES[0])],
        prompts: ['a wave'],
        methods: [{ id: 'rollout' }],
        dimensions: DIMENSIONS,
        maxSide: 64,
      });
      const zs = await runZeroShot(clip, [file(IMAGES[0])], suites, DIMENSIONS, { topK: 3 });
      expectSameAnswers(data.paintings[0].probes, zs);
    });

    it('probeAnswersOf ranks every label like runZeroShot, ties in label order', () => {
      const zs: ZeroShotResult = {
        model: 'm',
        logitScale: 100,
        topK: 1,
        dimensions: [
          {
            name: 'd',
            suite: 's',
            source: 'x',
            description: '',
            labels: ['a', 'b', 'c'].map((id) => ({ id, prompts: [id] })),
          },
        ],
        images: [
          {
            image: 'i',
            answers: {
              d: {
                ranked: [{ label: 'b', probability: 0.5, logit: 1, prompt: 'b' }],
                probabilities: [0.25, 0.5, 0.25],
                explain: { kind: 'prompt', prompt: 'b' },
              },
            },
          },
        ],
      };
      expect(probeAnswersOf(zs)).toEqual([
        [
          {
            dimension: 'd',
            top: [
              { label: 'b', p: 0.5 },
              { label: 'a', p: 0.25 },
              { label: 'c', p: 0.25 },
            ],
          },
        ],
      ]);
    });

    it('refuses a label without prompts, naming it', async () => {
      const [style] = selectDimensions(suites, ['style']);
      const broken = { ...style, labels: [{ ...style.labels[0], prompts: [] }, ...style.labels.slice(1)] };
      await expect(computeProbeAnswers(clip, [file(IMAGES[0])], [broken])).rejects.toThrow(
        `probe dimension "style": label "${style.labels[0].id}" has no prompts`,
      );
      expect(await computeProbeAnswers(clip, [file(IMAGES[0])], [])).toEqual([[]]);
    });
  },
);
