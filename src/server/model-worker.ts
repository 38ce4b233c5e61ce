/**
 * The worker thread that owns the CLIP model: the server's HTTP thread stays responsive while TensorFlow.js
 * work (synchronous and CPU-bound) runs here. Messages in: `load` (a model folder), `explain` (one
 * painting × method × target, written to a maps folder), `zeroShot` (one painting × suite dimensions) and
 * `embed` (unit image embeddings of a few paintings, for the embedding map); messages out: `loaded`,
 * `progress`, `done`, `zeroShotDone`, `embedDone`, `error`.
 *
 * @example
 * // started by ModelHost: new Worker(new URL('./model-worker.mjs', import.meta.url))
 */
import { parentPort } from 'node:worker_threads';
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
  backend: { name: string; package: string; gpu: boolean };
  imageSize: number;
  patchSize: number;
  embedDim: number;
}

let clip: Clip | undefined;
const port = parentPort;
if (!port) throw new Error('model-worker.ts must run in a worker thread');

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
      backend: { name: c.backend.name, package: c.backend.package, gpu: c.backend.gpu },
      imageSize: c.config.vision.imageSize,
      patchSize: c.config.vision.patchSize,
      embedDim: c.config.embedDim,
    };
    port?.postMessage({ type: 'loaded', info });
    return;
  }
  if (!clip) throw new Error('no model loaded');
  if (msg.type === 'zeroShot') {
    const image = { name: msg.imageName, input: msg.image };
    const result = await runZeroShot(clip, [image], msg.suites, msg.dimensions, { topK: msg.topK });
    port?.postMessage({ type: 'zeroShotDone', requestId: msg.requestId, result });
    return;
  }
  if (msg.type === 'embed') {
    const embeddings = await clip.encodeImage(msg.images, { normalize: true }); // [n][E]
    port?.postMessage(
      { type: 'embedDone', requestId: msg.requestId, embeddings },
      embeddings.map((e) => e.buffer as ArrayBuffer),
    );
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
    (done, total) => port?.postMessage({ type: 'progress', jobId: msg.jobId, done, total }),
  );
  const [entry] = await writeExplanations(msg.outDir, clip.id, result);
  port?.postMessage({ type: 'done', jobId: msg.jobId, entry });
}

port.on('message', (msg: WorkerRequest) => {
  handle(msg).catch((e: Error) => port.postMessage({ type: 'error', request: msg.type, message: e.message }));
});
