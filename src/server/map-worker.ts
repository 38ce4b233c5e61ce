/**
 * The worker thread of one embedding-map job (`runMapJob` in embedding-map.ts): reads the job from
 * `workerData`, runs it, posts `{ ok: true, out }` or `{ ok: false, message }` once.
 *
 * @example
 * // started by runMapJob: new Worker(new URL('./map-worker.mjs', import.meta.url), { workerData: job })
 */
import { parentPort, workerData } from 'node:worker_threads';
import { computeMapJob, type MapJob } from './embedding-map.ts';

const port = parentPort;
if (!port) throw new Error('map-worker.ts must run in a worker thread');
computeMapJob(workerData as MapJob).then(
  (out) => port.postMessage({ ok: true, out }),
  (e: Error) => port.postMessage({ ok: false, message: e.message }),
);
