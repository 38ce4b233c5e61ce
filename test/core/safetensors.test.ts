import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat, SafetensorsFile, writeSafetensors } from '../../src/core/safetensors.ts';

/** Builds a safetensors file by hand (header JSON + raw bytes) so the reader is tested independently of the writer. */
function handMade(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors reader', () => {
  it('reads F32, F16, BF16 and I64 tensors, 0-d and empty shapes', () => {
    const f32 = new Float32Array([1.5, -2, 3.25]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff]); // 1, -2, 65504
    const bf16 = new Uint16Array([0x3f80, 0x4049]); // 1, 3.140625
    const i64 = new BigInt64Array([7n, -3n]);
    const scalar = new Float32Array([4.605]);
    const bytes = new Uint8Array([
      ...new Uint8Array(f32.buffer),
      ...new Uint8Array(i64.buffer),
      ...new Uint8Array(scalar.buffer),
      ...new Uint8Array(f16.buffer),
      ...new Uint8Array(bf16.buffer),
    ]);
    const st = SafetensorsFile.fromBytes(
      handMade(
        {
          __metadata__: { format: 'pt' },
          a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
          i: { dtype: 'I64', shape: [2], data_offsets: [12, 28] },
          s: { dtype: 'F32', shape: [], data_offsets: [28, 32] },
          h: { dtype: 'F16', shape: [3], data_offsets: [32, 38] },
          b: { dtype: 'BF16', shape: [1, 2], data_offsets: [38, 42] },
          e: { dtype: 'F32', shape: [0, 4], data_offsets: [42, 42] },
        },
        bytes,
      ),
    );
    expect(st.metadata.format).toBe('pt');
    expect(Array.from(st.getFloat32('a').data)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(st.getInt32('i').data)).toEqual([7, -3]);
    expect(st.getFloat32('s').shape).toEqual([]);
    expect(st.getFloat32('s').data[0]).toBeCloseTo(4.605, 5);
    expect(Array.from(st.getFloat32('h').data)).toEqual([1, -2, 65504]);
    expect(Array.from(st.getFloat32('b').data)).toEqual([1, 3.140625]);
    expect(st.getFloat32('e').data.length).toBe(0);
  });

  it('aligned F32 tensors are views into the file bytes, not copies', () => {
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] } });
    const st = SafetensorsFile.fromBytes(bytes);
    const t = st.getFloat32('w');
    expect(t.data.buffer).toBe(bytes.buffer);
    bytes[bytes.length - 1] ^= 0x80; // flip the sign bit of the last value in the file
    expect(t.data[3]).toBe(-4);
  });

  it('refuses malformed files with messages that name the problem', () => {
    const bad =
      (header: Record<string, unknown>, n = 8) =>
      () =>
        SafetensorsFile.fromBytes(handMade(header, new Uint8Array(n)), 'x.safetensors');
    expect(bad({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } })).toThrow(
      /x\.safetensors: tensor "t".*beyond the data section/,
    );
    expect(bad({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } })).toThrow(/do not match shape/);
    expect(bad({ t: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } })).toThrow(/unknown dtype "Q8"/);
    expect(bad({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } })).toThrow(/shape/);
    expect(bad({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } })).toThrow(/data_offsets|end/);
    expect(() => SafetensorsFile.fromBytes(new Uint8Array(4))).toThrow(/too short/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    expect(() => SafetensorsFile.fromBytes(huge)).toThrow(/truncated/);
    const notJson = new Uint8Array(12);
    new DataView(notJson.buffer).setBigUint64(0, 4n, true);
    notJson.set(Buffer.from('{{{{'), 8);
    expect(() => SafetensorsFile.fromBytes(notJson)).toThrow(/not valid JSON/);
    expect(() => SafetensorsFile.fromBytes(writeSafetensors({})).info('missing')).toThrow(
      /no tensor named "missing"/,
    );
  });

  it('half-precision conversion round-trips and rounds to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.1035156e-5, 5.9604645e-8, -0.33325195])
      expect(halfToFloat(floatToHalf(v))).toBe(Math.fround(halfToFloat(floatToHalf(v))));
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie -> even
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfToFloat(floatToHalf(1e6))).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });
});
