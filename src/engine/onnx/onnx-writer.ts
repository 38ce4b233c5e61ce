/**
 * A tiny ONNX graph builder over `onnx-proto` (opset 17, IR 8). Weights are initializers stored as ONNX external
 * data in one shared file (`weights.bin`, offsets aligned to 4096 so ONNX Runtime can map them), so no model file
 * carries weights and every graph of a model references the same bytes. Small constants (shapes, scalars,
 * masks) are inline.
 *
 * @example
 * const layout = new WeightLayout([{ name: 'w', dims: [4, 3] }]);
 * const g = new GraphBuilder(layout);
 * const x = g.input('x', 'float', ['B', 3]);
 * g.output(g.op('Gemm', [x, g.weight('w')], { transB: 1 }), 'y', 'float', ['B', 4]);
 * writeFileSync('model.onnx', g.toBytes());
 */

import type { onnx as Proto } from 'onnx-proto';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Alignment of every tensor in the weights file (a page, so ONNX Runtime can memory-map them). */
export const WEIGHT_ALIGN = 4096;
/** File name of the external data, relative to the graphs. */
export const WEIGHTS_FILE = 'weights.bin';

export type ElemType = 'float' | 'int64';
const ELEM: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

/** A weight tensor's place in the external data file. */
export interface WeightEntry {
  name: string;
  dims: number[];
  offset: number;
  /** Bytes (float32). */
  length: number;
}

/**
 * Offsets of named float32 tensors in one external data file, each aligned to {@link WEIGHT_ALIGN}.
 *
 * @example
 * const layout = new WeightLayout([{ name: 'a', dims: [2] }, { name: 'b', dims: [3, 3] }]);
 * layout.get('b').offset; // 4096
 */
export class WeightLayout {
  readonly entries: WeightEntry[] = [];
  readonly bytes: number;
  private readonly byName = new Map<string, WeightEntry>();

  constructor(tensors: { name: string; dims: number[] }[]) {
    let offset = 0;
    for (const { name, dims } of tensors) {
      if (this.byName.has(name)) throw new Error(`weight "${name}" is listed twice`);
      const e = { name, dims, offset, length: 4 * dims.reduce((a, b) => a * b, 1) };
      this.entries.push(e);
      this.byName.set(name, e);
      offset = Math.ceil((offset + e.length) / WEIGHT_ALIGN) * WEIGHT_ALIGN;
    }
    this.bytes = this.entries.length ? offset : 0;
  }

  get(name: string): WeightEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no weight named "${name}"`);
    return e;
  }
}

/** Attribute values: integers and integer lists are INT(S); wrap floats as `{ f }`, float lists as `{ floats }`. */
export type AttrValue = number | number[] | string | { f: number } | { floats: number[] };

type Dim = number | string;

function valueInfo(name: string, type: ElemType, dims: Dim[]): Proto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): Proto.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use { f })`);
    return { name, type: A.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if ('f' in v) return { name, type: A.FLOAT, f: v.f };
  return { name, type: A.FLOATS, floats: v.floats };
}

/**
 * Builds one ONNX graph: `op` appends a node and returns its output name(s), `weight` references an external
 * initializer, `f32`/`i64` add small inline constants.
 *
 * @example
 * const y = g.op('Add', [x, g.f32([1], [])]);
 */
export class GraphBuilder {
  private readonly nodes: Proto.INodeProto[] = [];
  private readonly inits: Proto.ITensorProto[] = [];
  private readonly inputs: Proto.IValueInfoProto[] = [];
  private readonly outputs: Proto.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly consts = new Map<string, string>();
  private count = 0;

  constructor(private readonly layout: WeightLayout) {}

  /** A fresh tensor name. */
  name(hint = 't'): string {
    return `${hint}_${this.count++}`;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `tensor` as graph output `name` (through an Identity when the names differ). */
  output(tensor: string, name: string, type: ElemType, dims: Dim[]): void {
    if (tensor !== name)
      this.nodes.push({ opType: 'Identity', input: [tensor], output: [name], name: `out_${name}` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Appends a node (ONNX domain, opset 17) with one output. */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.opN(type, inputs, 1, attrs)[0];
  }

  /** Appends a node with `n` outputs. */
  opN(type: string, inputs: string[], n: number, attrs: Record<string, AttrValue> = {}): string[] {
    const output = Array.from({ length: n }, () => this.name(type.toLowerCase()));
    this.nodes.push({
      opType: type,
      input: inputs,
      output,
      name: `${type}_${this.count++}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** The external initializer `name` (added to this graph on first use). */
  weight(name: string): string {
    if (this.used.has(name)) return name;
    const e = this.layout.get(name);
    this.used.add(name);
    this.inits.push({
      name,
      dims: e.dims,
      dataType: ELEM.float,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: WEIGHTS_FILE },
        { key: 'offset', value: String(e.offset) },
        { key: 'length', value: String(e.length) },
      ],
    });
    return name;
  }

  /** Inline float32 constant (deduplicated when small). */
  f32(values: ArrayLike<number>, dims: number[]): string {
    return this.constant('float', values, dims);
  }

  /** Inline int64 constant, e.g. a shape. */
  i64(values: number[], dims: number[] = [values.length]): string {
    return this.constant('int64', values, dims);
  }

  private constant(type: ElemType, values: ArrayLike<number>, dims: number[]): string {
    const small = values.length <= 16;
    const key = small ? `${type}|${dims}|${Array.from(values)}` : '';
    const hit = small ? this.consts.get(key) : undefined;
    if (hit) return hit;
    const name = this.name(type === 'float' ? 'cf' : 'ci');
    const rawData =
      type === 'float'
        ? new Uint8Array(Float32Array.from(values).buffer)
        : new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
    this.inits.push({ name, dims, dataType: ELEM[type], rawData });
    if (small) this.consts.set(key, name);
    return name;
  }

  /** Serialises the graph as a ModelProto (IR 8, opset 17). */
  toBytes(graphName = 'graph'): Uint8Array {
    const model: Proto.IModelProto = {
      irVersion: 8,
      producerName: 'artprobe',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}
