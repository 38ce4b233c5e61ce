import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, NpyError, parseNpyHeader, readNpy, writeNpy } from '../../src/core/npy.ts';
import { parseNpy } from '../../src/ui/npy.ts';

/** Builds a .npy by hand (independent of encodeNpy). */
function handMade(descr: string, shape: string, body: Uint8Array, version = 1): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pre = version === 1 ? 10 : 12;
  header += `${' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(pre + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(body, pre + header.length);
  return out;
}

describe('npy', () => {
  it('round-trips float32, float64 and int32 with C-order shapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const cases = [
      { data: Float32Array.from([1.5, -2, 3.25, 4, 5, 6]), shape: [2, 3] },
      { data: Float64Array.from([Math.PI, -1e-300, 7]), shape: [3] },
      { data: Int32Array.from([1, -2, 2147483647, -2147483648]), shape: [2, 2] },
      { data: Float64Array.from([42]), shape: [] },
    ];
    for (const [i, c] of cases.entries()) {
      const p = join(dir, `a${i}.npy`);
      await writeNpy(p, c.data, c.shape);
      const back = await readNpy(p);
      expect(back.shape).toEqual(c.shape);
      expect(back.data.constructor).toBe(c.data.constructor);
      expect(Array.from(back.data)).toEqual(Array.from(c.data));
    }
  });

  it('writes a header padded to 64 bytes that numpy can parse', () => {
    const bytes = encodeNpy(new Float32Array(6), [2, 3]);
    const len = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + len) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + len));
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'shape': (2, 3)");
    expect(header.endsWith('\n')).toBe(true);
    expect(
      parseNpyHeader(new TextDecoder().decode(encodeNpy(new Int32Array(3), [3]).subarray(10))).shape,
    ).toEqual([3]);
  });

  it('reads hand-made files: big-endian, float16, int64, version 2, and widens on request', () => {
    const be = new Uint8Array(16);
    new DataView(be.buffer).setFloat64(0, 1.25, false);
    new DataView(be.buffer).setFloat64(8, -3, false);
    expect(Array.from(decodeNpy(handMade('>f8', '(2,)', be)).data)).toEqual([1.25, -3]);
    const half = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]); // 1, -2, smallest subnormal
    expect(Array.from(decodeNpy(handMade('<f2', '(3,)', half), 'h', 'float64').data)).toEqual([
      1,
      -2,
      2 ** -24,
    ]);
    const i8 = new Uint8Array(16);
    new DataView(i8.buffer).setBigInt64(0, -5n, true);
    new DataView(i8.buffer).setBigInt64(8, 9n, true);
    const a = decodeNpy(handMade('<i8', '(1, 2)', i8, 2));
    expect(a.shape).toEqual([1, 2]);
    expect(Array.from(a.data)).toEqual([-5, 9]);
    expect(a.data).toBeInstanceOf(Int32Array);
  });

  it('gives clear errors for bad input', () => {
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'x.npy')).toThrow(
      /x\.npy: not a \.npy file/,
    );
    const f = handMade('<f4', '(2, 2)', new Uint8Array(16)).slice();
    const fortran = new TextDecoder().decode(f).replace('False', 'True ');
    expect(() =>
      decodeNpy(
        new TextEncoder().encode(fortran).map((b, i) => (i < 10 ? f[i] : b)),
        'f.npy',
      ),
    ).toThrow(/Fortran/);
    expect(() => decodeNpy(handMade('<f4', '(4, 4)', new Uint8Array(16)), 's.npy')).toThrow(
      /s\.npy: data too short.*needs 64 bytes/,
    );
    expect(() => decodeNpy(handMade('<c16', '(1,)', new Uint8Array(16)), 'c.npy')).toThrow(
      /unsupported dtype '<c16'/,
    );
    expect(() => decodeNpy(handMade('|O', '(1,)', new Uint8Array(8)), 'o.npy')).toThrow(/unsupported dtype/);
    expect(() => parseNpyHeader("{'descr': '<f4', 'shape': (2,), }", 'h')).toThrow(
      /h: header has no 'fortran_order'/,
    );
    expect(() => parseNpyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 'h')).toThrow(
      /bad dimension 'x'/,
    );
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 2n ** 40n, true);
    expect(() => decodeNpy(handMade('<i8', '(1,)', big), 'big.npy')).toThrow(/does not fit int32/);
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/has 6 elements but data has 5/);
  });

  it('names the file when it cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    await expect(readNpy(join(dir, 'missing.npy'))).rejects.toThrow(/missing\.npy: cannot read file/);
    writeFileSync(join(dir, 'junk.npy'), 'hello world');
    await expect(readNpy(join(dir, 'junk.npy'))).rejects.toThrow(NpyError);
  });

  it('decodes in the browser with the same module: any dtype to float32, and no Node imports on that path', () => {
    const be = new Uint8Array(16);
    new DataView(be.buffer).setFloat64(0, 1.25, false);
    new DataView(be.buffer).setFloat64(8, -3, false);
    for (const bytes of [
      encodeNpy(Float64Array.from([1.25, -3]), [1, 2]),
      handMade('<f2', '(1, 2)', Uint8Array.from([0x00, 0x3d, 0x00, 0xc2])),
      handMade('>f8', '(1, 2)', be, 2),
    ]) {
      const copy = bytes.slice();
      const { shape, data } = parseNpy(copy.buffer);
      expect(shape).toEqual([1, 2]);
      expect(data).toBeInstanceOf(Float32Array);
      expect(Array.from(data)).toEqual([1.25, -3]);
    }
    expect(() => parseNpy(new Uint8Array(12).buffer)).toThrow(NpyError);
    for (const file of ['src/core/npy-codec.ts', 'src/core/half-float.ts', 'src/ui/npy.ts']) {
      const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/from '(node:|\.\/npy\.ts|\.\.\/core\/npy\.ts)/);
    }
  });
});
