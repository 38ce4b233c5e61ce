/**
 * A minimal `.npy` reader for the browser (float32 / float64, little-endian, C order), for the maps the server
 * returns (`painting.npy`, `[H, W]`).
 *
 * @example
 * const { shape, data } = parseNpy(await (await fetch(url)).arrayBuffer()); // shape [H, W]
 */
export function parseNpy(buf: ArrayBuffer): { shape: number[]; data: Float32Array } {
  const bytes = new Uint8Array(buf);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY')
    throw new Error('not a .npy file');
  const major = bytes[6];
  const view = new DataView(buf);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('.npy: Fortran order is not supported');
  const offset = start + headerLen;
  const n = shape.reduce((a, b) => a * b, 1);
  if (descr === '<f4') return { shape, data: new Float32Array(buf.slice(offset, offset + 4 * n)) };
  if (descr === '<f8')
    return { shape, data: Float32Array.from(new Float64Array(buf.slice(offset, offset + 8 * n))) };
  throw new Error(`.npy: dtype ${descr} is not supported`);
}
