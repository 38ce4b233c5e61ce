/**
 * The worker process that owns the CLIP model: the server stays responsive while CLIP
 * work (CPU-bound, ONNX Runtime or TensorFlow.js) runs here. Messages in: `load` (a model folder), `explain` (one
 * painting × method × target, written to a maps folder), `zeroShot` (one painting × suite dimensions) and
 * `embed` (unit image embeddings of a few paintings, for the embedding map); messages out: `loaded`,
 * `progress`, `done`, `zeroShotDone`, `embedDone`, `error` (each with the process's peak RSS so far).
 * `diagnostics` requests (decomposition, steering, head roles, robustness curves) are done by `./diagnostics.ts`
 * and answered with `diagnosticsDone` (tasks over several paintings report `progress` first).
 *
 * Paintings are decoded under a pixel budget (`maxMapPixels` of the request): a larger painting is shrunk
 * while it is decoded, so the decoded copy, the maps in painting pixels and the overlay all have at most that
 * many pixels, whatever the file's size. A tiles view over `maxTiles` is refused before any tile is cut.
 * Error messages name the painting by its workspace name, never by its path.
 *
 * @example
 * // started by ModelHost: fork('model-worker.mjs', [], { serialization: 'advanced' })
 */
import { explainImage } from '../attribution/explain.ts';
import { writeExplanations } from '../attribution/manifest.ts';
import type { TargetSpec } from '../attribution/target.ts';
import { explainTextRelevance } from '../attribution/text-relevance.ts';
import { checkTileCount, DEFAULT_MAX_TILES, type ViewKind } from '../attribution/views.ts';
import { type Clip, loadClip } from '../core/clip.ts';
import { decodeImage, type RgbImage } from '../core/image-decode.ts';
import { readNpy } from '../core/npy.ts';
import type { Suite } from '../probe/suites.ts';
import { runZeroShot } from '../probe/zero-shot.ts';
import { mapFaithfulness } from '../regions/map-faithfulness.ts';
import { type DiagnosticsWorkerRequest, releaseDiagnostics, runDiagnostics } from './diagnostics.ts';

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
      /** Pixel budget of the decoded painting and of the maps (default: no shrinking). */
      maxMapPixels?: number;
      /** Most tiles of the tiles view (default 64). */
      maxTiles?: number;
      /** How errors name the painting (default `imageName`). */
      label?: string;
    }
  | {
      type: 'zeroShot';
      requestId: string;
      image: string;
      /** Pixel budget of the decoded image (default: no shrinking). */
      maxMapPixels?: number;
      imageName: string;
      /** Already loaded and validated suites (plain data). */
      suites: Suite[];
      dimensions?: string[];
      topK: number;
    }
  | {
      type: 'textRelevance';
      requestId: string;
      image: string;
      imageName: string;
      /** Pixel budget of the decoded image (default: no shrinking). */
      maxMapPixels?: number;
      prompts: string[];
      view: ViewKind;
      startLayer?: number;
    }
  | {
      type: 'faithfulness';
      requestId: string;
      image: string;
      imageName: string;
      /** Pixel budget of the decoded painting: the job's, so the model sees what the map was made on. */
      maxMapPixels?: number;
      view: ViewKind;
      target: TargetSpec;
      /** The job's raw map (`raw.npy`: [rows, cols] or [tiles, rows, cols]). */
      rawFile: string;
      steps: number;
    }
  | {
      type: 'embed';
      requestId: string;
      /** Image files to embed (unit-length CLIP image embeddings, in this order). */
      images: string[];
      /** Pixel budget of each decoded image (default: no shrinking). */
      maxMapPixels?: number;
    }
  | DiagnosticsWorkerRequest;

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
let maxPixels: number | undefined;
const send = process.send?.bind(process);
if (!send)
  throw new Error('model-worker.ts must run as a child process with an IPC channel (ModelHost forks it)');
/** Every message carries the peak resident memory of this process so far, in bytes. */
const port = {
  postMessage: (m: Record<string, unknown>) => send({ ...m, peakRss: process.resourceUsage().maxRSS * 1024 }),
};

/** A painting decoded under the pixel budget, named by its workspace name in errors. */
function decodeBudgeted(file: string, name: string, budget: number | undefined): Promise<RgbImage> {
  return decodeImage(file, { maxPixels, maxDecodedPixels: budget, name });
}
// the server went away (even by SIGKILL): nothing is left to serve
process.on('disconnect', () => process.exit(0));

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'load') {
    releaseDiagnostics();
    clip?.dispose();
    clip = undefined;
    const c = await loadClip(msg.source, { backend: msg.backend, maxPixels: msg.maxPixels });
    clip = c;
    maxPixels = msg.maxPixels;
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
    const image = {
      name: msg.imageName,
      input: await decodeBudgeted(msg.image, msg.imageName, msg.maxMapPixels),
    };
    const result = await runZeroShot(clip, [image], msg.suites, msg.dimensions, { topK: msg.topK });
    port.postMessage({ type: 'zeroShotDone', requestId: msg.requestId, result });
    return;
  }
  if (msg.type === 'textRelevance') {
    const img = await decodeBudgeted(msg.image, msg.imageName, msg.maxMapPixels);
    if (msg.view === 'tiles') checkTileCount(img.width, img.height, 0.25, DEFAULT_MAX_TILES);
    const result = await explainTextRelevance(clip, {
      image: img,
      prompts: msg.prompts,
      view: msg.view,
      startLayer: msg.startLayer,
    });
    port.postMessage({ type: 'textRelevanceDone', requestId: msg.requestId, result });
    return;
  }
  if (msg.type === 'faithfulness') {
    const img = await decodeBudgeted(msg.image, msg.imageName, msg.maxMapPixels);
    const raw = await readNpy(msg.rawFile, 'float32');
    const result = await mapFaithfulness(clip, {
      image: img,
      view: msg.view,
      target: msg.target,
      raw: raw.data as Float32Array,
      rawShape: raw.shape,
      steps: msg.steps,
    });
    port.postMessage({ type: 'faithfulnessDone', requestId: msg.requestId, result });
    return;
  }
  if (msg.type === 'diagnostics') {
    const result = await runDiagnostics(clip, msg, {
      maxPixels,
      progress: (done, total) => port.postMessage({ type: 'progress', jobId: msg.requestId, done, total }),
    });
    port.postMessage({ type: 'diagnosticsDone', requestId: msg.requestId, result });
    return;
  }
  if (msg.type === 'embed') {
    const embeddings: Float32Array[] = []; // [n][E], one image decoded at a time
    for (const [i, f] of msg.images.entries()) {
      const img = await decodeBudgeted(f, `image ${i + 1} of ${msg.images.length}`, msg.maxMapPixels);
      embeddings.push(...(await clip.encodeImage(img, { normalize: true })));
    }
    port.postMessage({ type: 'embedDone', requestId: msg.requestId, embeddings });
    return;
  }
  const decoded = await decodeBudgeted(msg.image, msg.label ?? msg.imageName, msg.maxMapPixels);
  if (msg.view === 'tiles')
    checkTileCount(
      decoded.width,
      decoded.height,
      0.25,
      msg.maxTiles ?? DEFAULT_MAX_TILES,
      'raise it with artprobe serve --max-tiles',
    );
  const result = await explainImage(
    clip,
    {
      image: decoded,
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
  handle(msg).catch((e: Error) =>
    port.postMessage({
      type: 'error',
      request: msg.type,
      message:
        'image' in msg
          ? e.message.split(msg.image).join(('label' in msg && msg.label) || msg.imageName)
          : e.message,
    }),
  );
});
