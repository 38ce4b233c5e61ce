/**
 * Runs tensor code in `tf.tidy` and reads the results out as typed arrays, disposing every tensor.
 * Returning typed arrays from inside `tf.tidy` is slow (tidy walks the returned container element by
 * element), so results leave the scope as tensors and are read here.
 *
 * @example
 * const [emb] = tidyRead(() => model.forwardVision(x).embeds);
 */
import * as tf from '@tensorflow/tfjs';

export function tidyRead(fn: () => tf.Tensor | tf.Tensor[]): Float32Array[] {
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  try {
    return list.map((t) => t.dataSync() as Float32Array);
  } finally {
    tf.dispose(list);
  }
}
