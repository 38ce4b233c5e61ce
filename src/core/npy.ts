/**
 * NumPy `.npy` files on disk: the pure decoder/encoder of `npy-codec.ts` (shared with the browser UI),
 * re-exported, plus reading and writing files.
 *
 * @example
 * const { shape, data } = await readNpy('emb.npy'); // shape [n, d], data Float32Array
 * await writeNpy('out.npy', new Float64Array([1, 2, 3, 4]), [2, 2]);
 */
import { readFile, writeFile } from 'node:fs/promises';
import { decodeNpy, encodeNpy, type NpyArray, type NpyData, NpyError } from './npy-codec.ts';

export * from './npy-codec.ts';

/**
 * Reads a `.npy` file from disk.
 *
 * @example
 * const { shape, data } = await readNpy('maps.npy', 'float32');
 */
export async function readNpy(path: string, want?: 'float32' | 'float64' | 'int32'): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new NpyError(`${path}: cannot read file (${(e as Error).message})`);
  }
  return decodeNpy(bytes, path, want);
}

/**
 * Writes a typed array to a `.npy` file.
 *
 * @example
 * await writeNpy('pca.npy', coords, [n, 2]);
 */
export async function writeNpy(path: string, data: NpyData, shape: number[]): Promise<void> {
  await writeFile(path, encodeNpy(data, shape));
}
