/**
 * The work of `artprobe doctor` (options are declared in `../commands/doctor.ts`): the CLIP engine and why,
 * onnxruntime-node's version or why it does not load, the TensorFlow.js backend (used by the tfjs engine
 * only), Node.js and the installed models.
 *
 * @example
 * await runDoctor({ json: true }); // prints {"engine": {"kind": "onnx", ...}, "backend": "wasm", ...}
 */
import { initBackend } from '../../core/backend.ts';
import { defaultModelsDir, listModels } from '../../core/model-store.ts';
import { chooseEngine, probeOnnxRuntime } from '../../engine/select-engine.ts';

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  json?: boolean;
  /** `--engine` as given on the command line (the environment's ARTPROBE_ENGINE is read by chooseEngine). */
  engine?: string;
}

/** The `engine` object of `artprobe doctor --json`. */
export interface DoctorEngineReport {
  kind: string;
  reason: string;
  /** onnxruntime-node's version when it loads, else null. */
  onnxVersion: string | null;
  /** Why onnxruntime-node does not load, else null. */
  onnxError: string | null;
}

/**
 * Which engine runs and why, with onnxruntime-node's state even when the tfjs engine was requested (in which
 * case chooseEngine does not load onnxruntime-node itself).
 *
 * @example
 * await describeEngine('tfjs'); // { kind: 'tfjs', reason: 'requested (--engine)', onnxVersion: '1.30.0', onnxError: null }
 */
export async function describeEngine(requested?: string): Promise<DoctorEngineReport> {
  const choice = await chooseEngine(requested);
  const ort =
    choice.onnxVersion !== undefined || choice.onnxError !== undefined
      ? { version: choice.onnxVersion, error: choice.onnxError }
      : await probeOnnxRuntime();
  return {
    kind: choice.kind,
    reason: choice.reason,
    onnxVersion: ort.version ?? null,
    onnxError: ort.error ?? null,
  };
}

/**
 * Prints the doctor report (text, or one JSON object with `--json`).
 *
 * @example
 * await runDoctor({});
 */
export async function runDoctor(opts: DoctorOptions): Promise<void> {
  const engine = await describeEngine(opts.engine);
  const backend = await initBackend();
  const modelsDir = defaultModelsDir();
  const models = await listModels(modelsDir).catch(() => []);
  const report = {
    engine,
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
    `engine    ${engine.kind} (${engine.reason})`,
    `onnx      ${engine.onnxVersion ? `onnxruntime-node ${engine.onnxVersion}` : `onnxruntime-node does not load (${engine.onnxError})`}`,
    `backend   ${backend.name} (${backend.package}${backend.gpu ? ', GPU' : ''}): ${backend.reason}`,
    `          the TensorFlow.js backend is used by the tfjs engine only${engine.kind === 'tfjs' ? '' : ` (not by ${engine.kind})`}`,
    `tfjs      ${backend.tfjsVersion}, node ${process.version}`,
    ...backend.probes.map(
      (p) => `probe     ${p.package}: ${p.available ? 'available' : `not installed (${p.error})`}`,
    ),
    `models    ${modelsDir}: ${models.length ? models.map((m) => m.id).join(', ') : 'none installed'}`,
  ];
  if (backend.name === 'wasm')
    lines.push(
      'hint      for a GPU with the tfjs engine: npm install @tensorflow/tfjs-node-gpu (see README)',
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}
