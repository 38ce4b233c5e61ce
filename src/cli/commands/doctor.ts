/**
 * `artprobe doctor`: which TensorFlow.js backend is active and why, and what is installed.
 *
 * @example
 * artprobe doctor --json
 */
import type { Command } from 'commander';
import { initBackend } from '../../core/backend.ts';
import { defaultModelsDir, listModels } from '../../core/model-store.ts';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('report the active TensorFlow.js backend, Node.js version and installed models')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const backend = await initBackend();
      const modelsDir = defaultModelsDir();
      const models = await listModels(modelsDir).catch(() => []);
      const report = {
        backend: backend.name,
        package: backend.package,
        gpu: backend.gpu,
        reason: backend.reason,
        tfjs: backend.tfjsVersion,
        node: process.version,
        probes: backend.probes,
        modelsDir,
        models: models.map((m) => m.id),
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const lines = [
        `backend   ${backend.name} (${backend.package}${backend.gpu ? ', GPU' : ''}): ${backend.reason}`,
        `tfjs      ${backend.tfjsVersion}, node ${process.version}`,
        ...backend.probes.map(
          (p) => `probe     ${p.package}: ${p.available ? 'available' : `not installed (${p.error})`}`,
        ),
        `models    ${modelsDir}: ${models.length ? models.map((m) => m.id).join(', ') : 'none installed'}`,
      ];
      if (backend.name === 'wasm')
        lines.push('hint      for a GPU: npm install @tensorflow/tfjs-node-gpu (see README)');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
