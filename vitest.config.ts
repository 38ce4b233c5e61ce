import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/slow-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // two test files at a time: vitest's default on a 2-core machine is one (cpus − 1), and many files wait on
    // single-threaded wasm, a browser or a child process; ONNX sessions size their threads to the machine
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default'],
  },
});
