/**
 * The worker thread of a `ComputePool` (compute.ts): runs each task it is sent with `computeTask` and answers
 * `{ ok: true, out }` or `{ ok: false, message, statusCode? }`, one answer per task, in order.
 *
 * @example
 * // started by ComputePool: new Worker(new URL('./compute-worker.mjs', import.meta.url))
 */
import { parentPort } from 'node:worker_threads';
import { type ComputeTask, computeTask } from './compute.ts';

const port = parentPort;
if (!port) throw new Error('compute-worker.ts must run in a worker thread');
port.on('message', (task: ComputeTask) => {
  computeTask(task).then(
    (out) => port.postMessage({ ok: true, out }),
    (e: Error & { statusCode?: number }) =>
      port.postMessage({ ok: false, message: e.message, statusCode: e.statusCode }),
  );
});
