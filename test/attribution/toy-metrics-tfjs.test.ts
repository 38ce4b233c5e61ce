/**
 * artprobe's maps on the toy CLIP reproduce the PyTorch reference metric table and maps on the tfjs engine
 * (the suite is defined in test/helpers/toy-metrics-suite.ts).
 */
import { defineToyMetricsSuite } from '../helpers/toy-metrics-suite.ts';

defineToyMetricsSuite('tfjs');
