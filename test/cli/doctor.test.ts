/**
 * `artprobe doctor` reports the CLIP engine (and onnxruntime-node's state) next to the TensorFlow.js backend;
 * `--engine` and ARTPROBE_ENGINE are checked and reported as requested.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuild, runCli } from './run-cli.ts';

interface DoctorJson {
  engine: { kind: string; reason: string; onnxVersion: string | null; onnxError: string | null };
  backend: string;
  tfjs: string;
  node: string;
  models: string[];
}

const clean = { ARTPROBE_ENGINE: undefined, ARTPROBE_BACKEND: undefined };

describe('artprobe doctor and the engine option', () => {
  beforeAll(requireBuild);

  it('--json has an engine object with its reason and the onnxruntime-node state', async () => {
    const r = await runCli(['doctor', '--json'], clean);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as DoctorJson;
    expect(['onnx', 'tfjs']).toContain(out.engine.kind);
    expect(out.engine.reason).toMatch(/^default: onnxruntime-node/);
    // exactly one of version and error says whether onnxruntime-node loads, and the default follows it
    expect((out.engine.onnxVersion === null) !== (out.engine.onnxError === null)).toBe(true);
    expect(out.engine.kind).toBe(out.engine.onnxVersion ? 'onnx' : 'tfjs');
    // the backend fields are still there
    expect(out.backend).toMatch(/^(wasm|tensorflow|cpu)$/);
    expect(out.node).toBe(process.version);
  });

  it('reports ARTPROBE_ENGINE=tfjs as requested, with onnxruntime-node still probed', async () => {
    const r = await runCli(['doctor', '--json'], { ...clean, ARTPROBE_ENGINE: 'tfjs' });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as DoctorJson;
    expect(out.engine.kind).toBe('tfjs');
    expect(out.engine.reason).toBe('requested (ARTPROBE_ENGINE)');
    expect(out.engine.onnxVersion ?? out.engine.onnxError).toBeTruthy();
  });

  it('reports --engine tfjs as requested, before or after the command name', async () => {
    for (const args of [
      ['--engine', 'tfjs', 'doctor', '--json'],
      ['doctor', '--engine', 'tfjs', '--json'],
    ]) {
      const r = await runCli(args, clean);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as DoctorJson;
      expect(out.engine).toMatchObject({ kind: 'tfjs', reason: 'requested (--engine)' });
    }
  });

  it('prints the engine line and says the backend matters for the tfjs engine only', async () => {
    const r = await runCli(['doctor'], { ...clean, ARTPROBE_ENGINE: 'tfjs' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^engine +tfjs \(requested \(ARTPROBE_ENGINE\)\)$/m);
    expect(r.stdout).toMatch(/^onnx +onnxruntime-node (\d+\.\d+\S*|does not load \(.+\))$/m);
    expect(r.stdout).toMatch(/^backend +(wasm|tensorflow|cpu) /m);
    expect(r.stdout).toMatch(/used by the tfjs engine only/);
  });

  it('refuses --engine bogus with a message naming the option and the choices', async () => {
    const r = await runCli(['--engine', 'bogus', 'doctor'], clean);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(/--engine <kind>.*'bogus' is invalid.*onnx, tfjs/);
  });

  it('refuses ARTPROBE_ENGINE=bogus with a one-line message', async () => {
    const r = await runCli(['doctor'], { ...clean, ARTPROBE_ENGINE: 'bogus' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('artprobe: ARTPROBE_ENGINE must be one of onnx, tfjs, got "bogus"\n');
  });
});
