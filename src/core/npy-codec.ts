/**
 * Decoder and encoder for NumPy `.npy` bytes (format versions 1.0, 2.0 and 3.0): magic `\x93NUMPY`,
 * version, header length, a Python-dict header `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`,
 * then the raw array bytes. Only C-order arrays are handled; data are read as float32, float64 or int32
 * (little- or big-endian; float16, int8/16/64 and uint8/16 are widened on read).
 * No Node-only imports: the server (via `npy.ts`, which adds file reading) and the browser UI share it.
 *
 * @example
 * const { shape, data } = decodeNpy(new Uint8Array(await res.arrayBuffer()), 'emb.npy'); // shape [n, d]
 * const bytes = encodeNpy(new Float64Array([1, 2, 3, 4]), [2, 2]);
 */
import { halfToFloat } from './half-float.ts';

/** Typed arrays that `.npy` files are read into and written from. */
export type NpyData = Float32Array | Float64Array | Int32Array;

export interface NpyArray<T extends NpyData = NpyData> {
  /** Array shape; `[]` for a 0-d array. */
  shape: number[];
  /** Elements in C (row-major) order. */
  data: T;
  /** numpy dtype descriptor found in the header, e.g. `<f4`. */
  descr: string;
}

/** Error raised for any malformed or unsupported `.npy` input; the message names the file and the problem. */
export class NpyError extends Error {
  override name = 'NpyError';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses the header dict of a `.npy` file.
 *
 * @example
 * parseNpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").shape; // [2, 3]
 */
export function parseNpyHeader(
  header: string,
  name = 'npy',
): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) throw new NpyError(`${name}: header has no 'descr' field: ${header.trim()}`);
  if (fortran === undefined)
    throw new NpyError(`${name}: header has no 'fortran_order' field: ${header.trim()}`);
  if (shapeText === undefined) throw new NpyError(`${name}: header has no 'shape' field: ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0)
        throw new NpyError(`${name}: bad dimension '${s}' in shape (${shapeText})`);
      return v;
    });
  return { descr, fortranOrder: fortran === 'True', shape };
}

/**
 * Decodes a `.npy` buffer. `want` picks the output array type; by default float types give
 * Float32Array/Float64Array as stored and integer types give Int32Array.
 *
 * @example
 * const a = decodeNpy(bytes, 'x.npy', 'float64'); // a.data: Float64Array
 */
export function decodeNpy(bytes: Uint8Array, name = 'npy', want?: 'float32' | 'float64' | 'int32'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new NpyError(`${name}: not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(`${name}: truncated header`);
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError(`${name}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length)
    throw new NpyError(`${name}: header length ${headerLen} runs past end of file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataStart),
  );
  const { descr, fortranOrder, shape } = parseNpyHeader(header, name);
  if (fortranOrder) throw new NpyError(`${name}: Fortran-order arrays are not supported (save with C order)`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) throw new NpyError(`${name}: unsupported dtype '${descr}' (want float/int/uint)`);
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  const little = order !== '>';
  const supported: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2], b: [1] };
  if (!supported[kind].includes(size)) throw new NpyError(`${name}: unsupported dtype '${descr}'`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataStart < count * size) {
    throw new NpyError(
      `${name}: data too short: shape (${shape.join(', ')}) of ${descr} needs ${count * size} bytes, file has ${bytes.length - dataStart}`,
    );
  }
  const isFloat = kind === 'f';
  const target = want ?? (isFloat ? (size === 8 ? 'float64' : 'float32') : 'int32');
  const out: NpyData =
    target === 'float64'
      ? new Float64Array(count)
      : target === 'float32'
        ? new Float32Array(count)
        : new Int32Array(count);
  const read = elementReader(dv, kind, size, little);
  for (let i = 0; i < count; i++) {
    const v = read(dataStart + i * size);
    if (target === 'int32' && (!Number.isInteger(v) || v > 2147483647 || v < -2147483648)) {
      throw new NpyError(`${name}: element ${i} (${v}) does not fit int32`);
    }
    out[i] = v;
  }
  return { shape, data: out, descr };
}

function elementReader(dv: DataView, kind: string, size: number, le: boolean): (off: number) => number {
  if (kind === 'f' && size === 8) return (o) => dv.getFloat64(o, le);
  if (kind === 'f' && size === 4) return (o) => dv.getFloat32(o, le);
  if (kind === 'f') return (o) => halfToFloat(dv.getUint16(o, le));
  if (kind === 'b' || (kind === 'u' && size === 1)) return (o) => dv.getUint8(o);
  if (kind === 'u') return (o) => dv.getUint16(o, le);
  if (size === 1) return (o) => dv.getInt8(o);
  if (size === 2) return (o) => dv.getInt16(o, le);
  if (size === 4) return (o) => dv.getInt32(o, le);
  return (o) => Number(dv.getBigInt64(o, le));
}

/**
 * Encodes a typed array as a version-1.0 `.npy` buffer (little-endian, C order).
 *
 * @example
 * const bytes = encodeNpy(new Float32Array(6), [2, 3]);
 */
export function encodeNpy(data: NpyData, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new NpyError(
      `encodeNpy: shape (${shape.join(', ')}) has ${count} elements but data has ${data.length}`,
    );
  }
  const descr = data instanceof Float64Array ? '<f8' : data instanceof Float32Array ? '<f4' : '<i4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = `${header}${' '.repeat(pad % 64)}\n`; // total header block is a multiple of 64 bytes
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dv = new DataView(out.buffer, 10 + header.length);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) dv.setFloat64(i * size, data[i], true);
    else if (data instanceof Float32Array) dv.setFloat32(i * size, data[i], true);
    else dv.setInt32(i * size, data[i], true);
  }
  return out;
}
