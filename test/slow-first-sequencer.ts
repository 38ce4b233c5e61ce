/**
 * Vitest sequencer: the few test files known to take minutes start first, then vitest's own order (cached
 * durations, else larger files first). On a clean clone there is no duration cache, and the per-engine toy
 * reproduction files are tiny wrappers, so by size they would start last and run alone at the end.
 *
 * @example
 * // vitest.config.ts
 * sequence: { sequencer: SlowFirstSequencer }
 */
import type { TestSpecification } from 'vitest/node';
import { BaseSequencer } from 'vitest/node';

/** Path endings of the slowest files, slowest first (CI timings on 2 cores). */
const SLOW = [
  'test/attribution/toy-metrics-tfjs.test.ts',
  'test/attribution/toy-metrics-onnx.test.ts',
  'test/batch/batch.test.ts',
  'test/ui/collection-e2e.test.ts',
  'test/engine/engines-agree.test.ts',
  'test/ui/e2e.test.ts',
];

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rest = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW.findIndex((s) => f.moduleId.replaceAll('\\', '/').endsWith(s));
      return i < 0 ? SLOW.length : i;
    };
    // a stable sort keeps vitest's order among the others
    return rest
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
