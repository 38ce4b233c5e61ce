/**
 * End-to-end tests of `pullModel` / `artprobe model pull` against a fake hub on 127.0.0.1 (real HTTP, real
 * redirects, real socket cuts), serving golden/models/tiny-b32 as the repo artprobe-test/tiny-b32.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/model.ts';
import { HubError, pullModel } from '../../src/core/hub.ts';
import { isModelComplete, listModels, MODEL_MARKER, readModelMarker } from '../../src/core/model-store.ts';
import { type FakeHub, startFakeHub, unusedEndpoint } from '../helpers/fake-hub.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const golden = (f: string) => sharedPath('golden', 'models', 'tiny-b32', f);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const HF_FILES = [
  'config.json',
  'preprocessor_config.json',
  'vocab.json',
  'merges.txt',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'model.safetensors',
];
const ID = 'artprobe-test/tiny-b32';
const quick = { quiet: true, retries: 3, retryBaseMs: 20, timeoutMs: 10_000 };

describeShared('pull from a hub over HTTP (127.0.0.1)', ['golden/models/tiny-b32'], () => {
  let hub: FakeHub;
  let modelsDir: string;
  const pull = (id = ID, extra: Record<string, unknown> = {}) =>
    pullModel(id, { ...quick, endpoint: hub.endpoint, modelsDir, token: '', ...extra });

  beforeAll(async () => {
    hub = await startFakeHub({
      gated: { 'artprobe-test/tiny-b16': 'hf_test_token' },
      repos: {
        'artprobe-test/openclip-only': {
          dir: sharedPath('golden', 'models', 'tiny-b32'),
          files: ['open_clip_config.json', 'open_clip_model.safetensors', 'vocab.json', 'merges.txt'],
        },
        'artprobe-test/bin-only': {
          dir: sharedPath('golden', 'models', 'tiny-b32'),
          files: ['config.json'],
          extra: { 'pytorch_model.bin': 'not really weights', 'flax_model.msgpack': 'x' },
        },
      },
    });
  });
  afterAll(async () => hub?.close());
  afterEach(() => {
    for (const k of Object.keys(hub.faults)) delete hub.faults[k as keyof typeof hub.faults];
    hub.requests.length = 0;
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });
  const freshDir = () => {
    modelsDir = mkdtempSync(join(tmpdir(), 'artprobe-hub-'));
    return modelsDir;
  };

  it('pulls the CLIP files byte-identical to the repo, via the CDN redirect, and writes the marker last', async () => {
    freshDir();
    const r = await pull();
    const dir = join(modelsDir, 'artprobe-test--tiny-b32');
    expect(r.dir).toBe(dir);
    expect(r.format).toBe('hf');
    expect(r.commit).toBe(hub.commitOf(ID));
    expect(r.files.map((f) => f.name).sort()).toEqual([...HF_FILES].sort());
    for (const f of HF_FILES) {
      expect(sha256(join(dir, f)), f).toBe(sha256(golden(f)));
      expect(r.files.find((x) => x.name === f)?.sha256).toBe(sha256(golden(f)));
    }
    // Only what a CLIP needs: no OpenCLIP copy, no fp16 copy, no manifest, no leftovers.
    expect(readdirSync(dir).sort()).toEqual([...HF_FILES, MODEL_MARKER].sort());
    const total = HF_FILES.reduce((a, f) => a + readFileSync(golden(f)).length, 0);
    expect(r.downloadedBytes).toBe(total);
    expect(await isModelComplete(dir)).toBe(true);
    const marker = await readModelMarker(dir);
    expect(marker?.commit).toBe(hub.commitOf(ID));
    // The weights went hub (302) -> CDN, and files were fetched at the listed commit, not at "main".
    const weights = hub.requests.filter((q) => q.path.includes('model.safetensors') || q.server === 'cdn');
    expect(weights.map((q) => [q.server, q.status])).toEqual([
      ['hub', 302],
      ['cdn', 200],
    ]);
    expect(
      hub.requests.filter((q) => q.path.includes('/resolve/')).every((q) => q.path.includes(r.commit)),
    ).toBe(true);

    // A second pull finds the same commit installed and fetches nothing.
    hub.requests.length = 0;
    const again = await pull();
    expect(again.upToDate).toBe(true);
    expect(hub.requests.map((q) => q.path.split('?')[0])).toEqual([`/api/models/${ID}/revision/main`]);
  });

  it('resumes a transfer cut off midway with a Range request and ends byte-identical', async () => {
    freshDir();
    hub.faults.cut = { file: 'model.safetensors', bytes: 5_000_000, times: 1 };
    const r = await pull();
    const dir = r.dir;
    expect(sha256(join(dir, 'model.safetensors'))).toBe(sha256(golden('model.safetensors')));
    const cdn = hub.requests.filter((q) => q.server === 'cdn');
    expect(cdn).toHaveLength(2);
    expect(cdn[0].range).toBeUndefined();
    const start = Number(/^bytes=(\d+)-$/.exec(cdn[1].range ?? '')?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(5_000_000);
    expect(cdn[1].status).toBe(206);
    const size = readFileSync(golden('model.safetensors')).length;
    const small = HF_FILES.filter((f) => f !== 'model.safetensors').reduce(
      (a, f) => a + readFileSync(golden(f)).length,
      0,
    );
    // Resumed, not restarted: at most the cut bytes were fetched twice.
    expect(r.downloadedBytes - small).toBeLessThanOrEqual(size + 5_000_000 - start);
    expect(r.downloadedBytes - small).toBeLessThan(2 * size - 4_000_000);
    console.log(
      `cut at 5,000,000 bytes; resumed with Range bytes=${start}-; received ${r.downloadedBytes - small} bytes for a ${size}-byte file`,
    );
  });

  it('resumes a .part left by an earlier run; restarts when the server ignores Range', async () => {
    for (const ignoreRange of [false, true]) {
      freshDir();
      const dir = join(modelsDir, 'artprobe-test--tiny-b32');
      const full = readFileSync(golden('model.safetensors'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'model.safetensors.part'), full.subarray(0, 3_000_000));
      hub.faults.ignoreRange = ignoreRange;
      const r = await pull();
      expect(sha256(join(dir, 'model.safetensors'))).toBe(sha256(golden('model.safetensors')));
      const cdn = hub.requests.filter((q) => q.server === 'cdn');
      expect(cdn.map((q) => [q.range, q.status])).toEqual([['bytes=3000000-', ignoreRange ? 200 : 206]]);
      const small = HF_FILES.filter((f) => f !== 'model.safetensors').reduce(
        (a, f) => a + readFileSync(golden(f)).length,
        0,
      );
      expect(r.downloadedBytes - small).toBe(ignoreRange ? full.length : full.length - 3_000_000);
      hub.requests.length = 0;
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });

  it('rejects a corrupted byte (sha256 mismatch): no marker, and an installed model stays untouched', async () => {
    freshDir();
    hub.faults.corrupt = { file: 'model.safetensors', offset: 1_234_567 };
    const dir = join(modelsDir, 'artprobe-test--tiny-b32');
    await expect(pull()).rejects.toThrow(/model\.safetensors is corrupt \(sha256 mismatch/);
    expect(existsSync(join(dir, MODEL_MARKER))).toBe(false);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(dir, 'model.safetensors.part'))).toBe(false);
    expect(await isModelComplete(dir)).toBe(false);
    expect((await listModels(modelsDir))[0].status).toBe('partial');

    // Install a good copy, then a forced re-pull that gets a corrupted byte must leave it as it was.
    delete hub.faults.corrupt;
    await pull();
    const before = readFileSync(join(dir, MODEL_MARKER), 'utf8');
    hub.faults.corrupt = { file: 'model.safetensors', offset: 42 };
    const err = await pull(ID, { force: true }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).kind).toBe('integrity');
    expect(readFileSync(join(dir, MODEL_MARKER), 'utf8')).toBe(before);
    expect(await isModelComplete(dir)).toBe(true);
    for (const f of HF_FILES) expect(sha256(join(dir, f)), f).toBe(sha256(golden(f)));
  });

  it('writes the marker last: a swap that fails midway leaves the folder incomplete', async () => {
    freshDir();
    const dir = join(modelsDir, 'artprobe-test--tiny-b32');
    // A non-empty folder where model.safetensors must go makes its rename fail after the downloads.
    mkdirSync(join(dir, 'model.safetensors', 'x'), { recursive: true });
    await expect(pull()).rejects.toThrow(/model\.safetensors/);
    expect(existsSync(join(dir, MODEL_MARKER))).toBe(false);
    expect(await isModelComplete(dir)).toBe(false);
  });

  it('reports a missing repo, a missing revision and a gated repo clearly', async () => {
    freshDir();
    const notFound = await pull('artprobe-test/no-such-model').catch((e) => e);
    expect(notFound.kind).toBe('not-found');
    expect(notFound.message).toMatch(/repository artprobe-test\/no-such-model not found .*HTTP 404/);
    const badRev = await pull(ID, { revision: 'v9.9' }).catch((e) => e);
    expect(badRev.kind).toBe('revision-not-found');
    expect(badRev.message).toContain('revision "v9.9" not found');

    const gated = await pull('artprobe-test/tiny-b16').catch((e) => e);
    expect(gated.kind).toBe('gated');
    expect(gated.status).toBe(401);
    expect(gated.message).toContain('HF_TOKEN');
    expect(readdirSync(modelsDir)).toEqual([]);

    // With the token it works, and the token never leaves the hub's origin (the CDN never sees it).
    hub.requests.length = 0;
    const ok = await pull('artprobe-test/tiny-b16', { token: 'hf_test_token' });
    expect(await isModelComplete(ok.dir)).toBe(true);
    const hubReqs = hub.requests.filter((q) => q.server === 'hub');
    const cdnReqs = hub.requests.filter((q) => q.server === 'cdn');
    expect(hubReqs.every((q) => q.authorization === 'Bearer hf_test_token')).toBe(true);
    expect(cdnReqs.length).toBeGreaterThan(0);
    expect(cdnReqs.every((q) => q.authorization === undefined)).toBe(true);
  });

  it('explains how to copy the files in by hand when the hub cannot be reached', async () => {
    freshDir();
    const endpoint = await unusedEndpoint();
    const t0 = Date.now();
    const err = await pullModel(ID, { ...quick, endpoint, modelsDir }).catch((e) => e);
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(HubError);
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('could not be reached');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain(join(modelsDir, 'artprobe-test--tiny-b32'));
    for (const f of [
      'config.json',
      'model.safetensors',
      'vocab.json',
      'merges.txt',
      'open_clip_model.safetensors',
    ]) {
      expect(err.message).toContain(f);
    }
    expect(err.message).toContain('artprobe model list');
    expect(ms).toBeLessThan(2000);
    console.log(`unreachable endpoint reported after ${ms} ms`);
  });

  it('gives up on a hub that accepts connections but never answers (idle timeout)', async () => {
    freshDir();
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const t0 = Date.now();
      const err = await pullModel(ID, { ...quick, endpoint, modelsDir, timeoutMs: 200, retries: 1 }).catch(
        (e) => e,
      );
      const ms = Date.now() - t0;
      expect(err.kind).toBe('unreachable');
      expect(err.message).toContain('ETIMEDOUT');
      expect(ms).toBeGreaterThanOrEqual(400); // two attempts of 200 ms
      expect(ms).toBeLessThan(3000);
    } finally {
      silent.close();
    }
  });

  it('retries 5xx answers with backoff, then succeeds', async () => {
    freshDir();
    hub.faults.fail = { pathIncludes: '/api/models/', status: 503, times: 2 };
    const r = await pull();
    expect(await isModelComplete(r.dir)).toBe(true);
    expect(hub.requests.filter((q) => q.path.startsWith('/api/')).map((q) => q.status)).toEqual([
      503, 503, 200,
    ]);
    hub.faults.fail = { pathIncludes: '/api/models/', status: 503, times: 10 };
    const err = await pull(ID, { force: true }).catch((e) => e);
    expect(err.message).toMatch(/could not be reached.*HTTP 503/);
  });

  it('picks OpenCLIP files when there is no transformers layout, and refuses repos without safetensors', async () => {
    freshDir();
    const oc = await pull('artprobe-test/openclip-only');
    expect(oc.format).toBe('open_clip');
    expect(oc.files.map((f) => f.name).sort()).toEqual(
      ['merges.txt', 'open_clip_config.json', 'open_clip_model.safetensors', 'vocab.json'].sort(),
    );
    expect(sha256(join(oc.dir, 'open_clip_model.safetensors'))).toBe(
      sha256(golden('open_clip_model.safetensors')),
    );
    const models = await listModels(modelsDir);
    expect(models.map((m) => [m.id, m.format, m.status])).toEqual([
      ['artprobe-test/openclip-only', 'open_clip', 'complete'],
    ]);

    hub.requests.length = 0;
    const err = await pull('artprobe-test/bin-only').catch((e) => e);
    expect(err.kind).toBe('no-weights');
    expect(err.message).toContain('pytorch_model.bin');
    expect(hub.requests.filter((q) => q.path.includes('/resolve/'))).toEqual([]);
  });

  it('`artprobe model pull` and `model list` work through the CLI', async () => {
    freshDir();
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const run = async (...args: string[]) => {
      const program = new Command('artprobe').exitOverride();
      register(program);
      await program.parseAsync(['node', 'artprobe', ...args]);
    };
    vi.stubEnv('HF_ENDPOINT', hub.endpoint);
    vi.stubEnv('HF_TOKEN', '');
    try {
      await run('model', 'pull', ID, '--models-dir', modelsDir, '--quiet');
      await run('model', 'list', '--models-dir', modelsDir);
      await run('model', 'list', '--json', '--models-dir', modelsDir);
      await expect(run('model', 'pull', '../../etc/passwd', '--models-dir', modelsDir)).rejects.toThrow(
        /contains "\.\."/,
      );
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(out[0]).toContain(`${ID}@${hub.commitOf(ID).slice(0, 10)} (hf, 7 files`);
    const table = out[1].split('\n');
    expect(table[0]).toMatch(/^ID\s+STATUS\s+FORMAT\s+SIZE\s+COMMIT\s+DIMS$/);
    const dir = join(modelsDir, 'artprobe-test--tiny-b32');
    const onDisk = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const mb = `${(onDisk / 1e6).toFixed(1)} MB`;
    expect(table[1]).toMatch(
      new RegExp(`^${ID}\\s+complete\\s+hf\\s+${mb}\\s+${hub.commitOf(ID).slice(0, 10)}`),
    );
    const cfg = JSON.parse(readFileSync(golden('config.json'), 'utf8'));
    expect(table[1]).toContain(
      `embed ${cfg.projection_dim}, ViT ${cfg.vision_config.hidden_size}x${cfg.vision_config.num_hidden_layers}`,
    );
    const json = JSON.parse(out[2]);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({
      id: ID,
      status: 'complete',
      format: 'hf',
      commit: hub.commitOf(ID),
      sizeBytes: onDisk,
    });
    console.log(`model list:\n${out[1]}`);
  });
});
