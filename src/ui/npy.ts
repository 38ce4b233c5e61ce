/**
 * `.npy` decoding for the browser: the same decoder as the server's (`core/npy-codec.ts`, no Node imports), for
 * the maps the server returns (`painting.npy`, `[H, W]`).
 *
 * @example
 * const { shape, data } = parseNpy(await (await fetch(url)).arrayBuffer()); // shape [H, W]
 */
import { decodeNpy } from '../core/npy-codec.ts';

export { decodeNpy, NpyError } from '../core/npy-codec.ts';

/**
 * Decodes a `.npy` response body as float32 (any float or integer dtype numpy writes in C order).
 *
 * @example
 * parseNpy(buf).data; // Float32Array of H * W values
 */
export function parseNpy(buf: ArrayBuffer): { shape: number[]; data: Float32Array } {
  const { shape, data } = decodeNpy(new Uint8Array(buf), '.npy', 'float32');
  return { shape, data: data as Float32Array };
}
