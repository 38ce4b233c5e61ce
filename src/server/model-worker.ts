/**
 * The worker process that owns the CLIP model: the server stays responsive while CLIP
 * work (CPU-bound, ONNX Runtime or TensorFlow.js) runs here. Messages in: `load` (a model folder), `explain` (one
 * painting × method × target, written to a maps folder), `zeroShot` (one painting × suite dimensions) and
 * `embed` (unit image embeddings of a few paintings, for the embedding map); messages out: `loaded`,
 * `progress`, `done`, `zeroShotDone`, `embedDone`, `error`.
 *
 * @example
 * // started by ModelHost: fork('model-worker.mjs', [], { serialization: 'advanced' })
 */
import { explainImage } from '../attribution/explain.ts';
import { writeExplanations } from '../attribution/manifest.ts';
import type { TargetSpec } from '../attribution/target.ts';
import type { ViewKind } from '../attribution/views.ts';
import { type Clip, loadClip } from '../core/clip.ts';
import type { Suite } from '../probe/suites.ts';
import { runZeroShot } from '../probe/zero-shot.ts';

/** A request to the worker. */
export type WorkerRequest =
  | { type: 'load'; source: string; backend?: string; maxPixels?: number }
  | {
      type: 'explain';
      jobId: string;
      image: string;
      imageName: string;
      method: string;
      params: Record<string, unknown>;
      target: TargetSpec;
      view: ViewKind;
      outDir: string;
    }
  | {
      type: 'zeroShot';
      requestId: string;
      image: string;
      imageName: string;
      /** Already loaded and validated suites (plain data). */
      suites: Suite[];
      dimensions?: string[];
      topK: number;
    }
  | {
      type: 'embed';
      requestId: string;
      /** Image files to embed (unit-length CLIP image embeddings, in this order). */
      images: string[];
    };

/** What the loaded model looks like, for /api/health and cache keys. */
export interface ModelInfo {
  id: string;
  dir: string;
  fingerprint: string;
  /** The tfjs backend, or for the onnx engine `{ name: 'onnx', package: 'onnxruntime-node' }`. */
  backend: { name: string; package: string; gpu: boolean };
  /** The engine that runs the model, e.g. "onnx (onnxruntime-node 1.30.0, cpu, 2 threads)". */
  engine: string;
  imageSize: number;
  patchSize: number;
  embedDim: number;
}

let clip: Clip | undefined;
const send = process.send?.bind(process);
if (!send) throw new Error('model-worker.ts must run as a child process with an IPC channel (ModelHost forks it)');
const port = { postMessage: (m: unknown) => send(m) };
// the server went away (even by SIGKILL): nothing is left to serve
process.on('disconnect', () => process.exit(0));

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'load') {
    clip?.dispose();
    clip = undefined;
    const c = await loadClip(msg.source, { backend: msg.backend, maxPixels: msg.maxPixels });
    clip = c;
    const info: ModelInfo = {
      id: c.id,
      dir: c.dir,
      fingerprint: await c.fingerprint(),
      backend: c.backend
        ? { name: c.backend.name, package: c.backend.package, gpu: c.backend.gpu }
        : { name: c.engine.kind, package: 'onnxruntime-node', gpu: c.engine.description.includes('cuda') },
      engine: c.engine.description,
      imageSize: c.config.vision.imageSize,
      patchSize: c.config.vision.patchSize,
      embedDim: c.config.embedDim,
    };
    port.postMessage({ type: 'loaded', info });
    return;
  }
  if (!clip) throw new Error('no model loaded');
  if (msg.type === 'zeroShot') {
    const image = { name: msg.imageName, input: msg.image };
    const result = await runZeroShot(clip, [image], msg.suites, msg.dimensions, { topK: msg.topK });
    port.postMessage({ type: 'zeroShotDone', requestId: msg.requestId, result });
    return;
  }
  if (msg.type === 'embed') {
    const embeddings = await clip.encodeImage(msg.images, { normalize: true }); // [n][E]
    port.postMessage({ type: 'embedDone', requestId: msg.requestId, embeddings });
    return;
  }
  const result = await explainImage(
    clip,
    {
      image: msg.image,
      imageName: msg.imageName,
      targets: [msg.target],
      methods: [{ id: msg.method, params: msg.params }],
      view: msg.view,
    },
    (done, total) => port.postMessage({ type: 'progress', jobId: msg.jobId, done, total }),
  );
  const [entry] = await writeExplanations(msg.outDir, clip.id, result);
  port.postMessage({ type: 'done', jobId: msg.jobId, entry });
}

process.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((e: Error) => port.postMessage({ type: 'error', request: msg.type, message: e.message }));
});
