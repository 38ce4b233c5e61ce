/**
 * Runs the artprobe CLI from source (for tests that spawn it as a separate process):
 * `node --import tsx test/batch/cli-entry.ts worker --redis ...`.
 *
 * @example
 * spawn(process.execPath, ['--import', 'tsx', 'test/batch/cli-entry.ts', 'worker', '--redis', url]);
 */
import { main } from '../../src/cli/main.ts';

await main(process.argv);
