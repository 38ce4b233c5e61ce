/**
 * Reader and writer for the safetensors format (https://huggingface.co/docs/safetensors):
 * 8-byte little-endian header length N, N bytes of JSON header, then the raw tensor bytes.
 * Tensors are read by offset: aligned F32/I32/U8 data are views into the file buffer (no copy);
 * F16, BF16, F64 and I64 are converted on demand.
 *
 * @example
 * const st = await SafetensorsFile.open('model.safetensors');
 * const { shape, data } = st.getFloat32('logit_scale'); // shape [] for a 0-d tensor
 */
import { readFile } from 'node:fs/promises';
import { floatToHalf, halfToFloat } from './half-float.ts';

export { floatToHalf, halfToFloat } from './half-float.ts';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_SIZE: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Largest header we accept (the spec caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export interface IntTensor {
  shape: number[];
  data: Int32Array;
}

/** Error raised for any malformed safetensors input; the message names the file and the problem. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export class SafetensorsFile {
  readonly metadata: Record<string, string>;
  private readonly tensors: Map<string, TensorInfo>;
  private readonly dataStart: number;

  private constructor(
    private readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    const fail = (msg: string): never => {
      throw new SafetensorsError(`${source}: ${msg}`);
    };
    if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, too short for a safetensors header`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLen = Number(view.getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
    if (8 + headerLen > bytes.byteLength) {
      fail(
        `header claims ${headerLen} bytes but the file has only ${bytes.byteLength - 8} after the length field (truncated?)`,
      );
    }
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
    } catch (e) {
      throw new SafetensorsError(`${source}: header is not valid JSON (${(e as Error).message})`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header))
      fail('header is not a JSON object');
    this.dataStart = 8 + headerLen;
    const dataLen = bytes.byteLength - this.dataStart;
    this.metadata = {};
    this.tensors = new Map();
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (raw && typeof raw === 'object') Object.assign(this.metadata, raw);
        continue;
      }
      const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!entry || typeof entry !== 'object') fail(`tensor "${name}": header entry is not an object`);
      const dtype = entry.dtype as DType;
      if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) {
        fail(
          `tensor "${name}": unknown dtype ${JSON.stringify(entry.dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`,
        );
      }
      const shape = entry.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
      }
      const offs = entry.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
        fail(`tensor "${name}": data_offsets ${JSON.stringify(offs)} must be two non-negative integers`);
      }
      const [begin, end] = offs as [number, number];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (end < begin) fail(`tensor "${name}": data_offsets end ${end} < begin ${begin}`);
      if (end > dataLen) {
        fail(
          `tensor "${name}": bytes ${begin}..${end} lie beyond the data section (${dataLen} bytes; file truncated?)`,
        );
      }
      if (end - begin !== count * DTYPE_SIZE[dtype]) {
        fail(
          `tensor "${name}": ${end - begin} bytes do not match shape [${shape}] of ${dtype} (${count * DTYPE_SIZE[dtype]} bytes)`,
        );
      }
      this.tensors.set(name, { dtype, shape: shape as number[], begin, end });
    }
  }

  /** Reads a safetensors file from disk and validates its header and bounds. */
  static async open(path: string): Promise<SafetensorsFile> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (e) {
      throw new SafetensorsError(
        `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    return new SafetensorsFile(buf, path);
  }

  /** Parses safetensors bytes already in memory. */
  static fromBytes(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
    return new SafetensorsFile(bytes, source);
  }

  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.source}: no tensor named "${name}"`);
    return t;
  }

  /** Raw bytes of a tensor (a view, no copy). */
  raw(name: string): Uint8Array {
    const t = this.info(name);
    return this.bytes.subarray(this.dataStart + t.begin, this.dataStart + t.end);
  }

  /** The tensor as float32: a view for aligned F32, otherwise converted (F16, BF16, F64, integers). */
  getFloat32(name: string): FloatTensor {
    const t = this.info(name);
    const raw = this.raw(name);
    const n = raw.byteLength / DTYPE_SIZE[t.dtype];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let data: Float32Array;
    switch (t.dtype) {
      case 'F32':
        data =
          raw.byteOffset % 4 === 0
            ? new Float32Array(raw.buffer, raw.byteOffset, n)
            : new Float32Array(raw.slice().buffer, 0, n);
        break;
      case 'F16':
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'BF16': {
        data = new Float32Array(n);
        const u32 = new Uint32Array(data.buffer);
        for (let i = 0; i < n; i++) u32[i] = view.getUint16(2 * i, true) << 16;
        break;
      }
      case 'F64':
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, true);
        break;
      default:
        data = Float32Array.from(this.getNumbers(name));
    }
    return { shape: t.shape, data };
  }

  /** Float64 values (exact for F64 tensors; used for reference data stored in double precision). */
  getFloat64(name: string): { shape: number[]; data: Float64Array } {
    const t = this.info(name);
    if (t.dtype === 'F64') {
      const raw = this.raw(name);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const data = new Float64Array(raw.byteLength / 8);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat64(8 * i, true);
      return { shape: t.shape, data };
    }
    return { shape: t.shape, data: Float64Array.from(this.getFloat32(name).data) };
  }

  /** Integer tensor as Int32 (I64 values must fit in 32 bits). */
  getInt32(name: string): IntTensor {
    const t = this.info(name);
    return { shape: t.shape, data: Int32Array.from(this.getNumbers(name)) };
  }

  private getNumbers(name: string): number[] {
    const t = this.info(name);
    const raw = this.raw(name);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const n = raw.byteLength / DTYPE_SIZE[t.dtype];
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      switch (t.dtype) {
        case 'I64':
          out[i] = Number(view.getBigInt64(8 * i, true));
          break;
        case 'I32':
          out[i] = view.getInt32(4 * i, true);
          break;
        case 'I16':
          out[i] = view.getInt16(2 * i, true);
          break;
        case 'I8':
          out[i] = view.getInt8(i);
          break;
        case 'U8':
        case 'BOOL':
          out[i] = view.getUint8(i);
          break;
        default:
          out[i] = this.getFloat32(name).data[i];
      }
    }
    return out;
  }
}

export interface TensorToWrite {
  dtype: 'F32' | 'F16' | 'I32' | 'U8';
  shape: number[];
  data: ArrayLike<number>;
}

/**
 * Serialises tensors to safetensors bytes (largest first, so every tensor is aligned).
 *
 * @example
 * await writeFile('w.safetensors', writeSafetensors({ w: { dtype: 'F32', shape: [2], data: [1, 2] } }));
 */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const size = { F32: 4, F16: 2, I32: 4, U8: 1 } as const;
  const names = Object.keys(tensors).sort(
    (a, b) => size[tensors[b].dtype] - size[tensors[a].dtype] || a.localeCompare(b),
  );
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const bytes = t.shape.reduce((a, b) => a * b, 1) * size[t.dtype];
    if (t.data.length * size[t.dtype] !== bytes) {
      throw new SafetensorsError(
        `writeSafetensors: "${name}" has ${t.data.length} values for shape [${t.shape}]`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hlen = Buffer.byteLength(json);
  const out = new Uint8Array(8 + hlen + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(hlen), true);
  out.set(Buffer.from(json), 8);
  let pos = 8 + hlen;
  for (const name of names) {
    const t = tensors[name];
    const n = t.data.length;
    for (let i = 0; i < n; i++) {
      const v = t.data[i];
      if (t.dtype === 'F32') view.setFloat32(pos + 4 * i, v, true);
      else if (t.dtype === 'I32') view.setInt32(pos + 4 * i, v, true);
      else if (t.dtype === 'U8') view.setUint8(pos + i, v);
      else view.setUint16(pos + 2 * i, floatToHalf(v), true);
    }
    pos += n * size[t.dtype];
  }
  return out;
}
