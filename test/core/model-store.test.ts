/**
 * Tests of the models folder: hub id validation, listing (complete / copied by hand / partial), dims from configs,
 * and resolving a model argument to a folder (with autoPull through a fake hub on 127.0.0.1).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isModelComplete,
  listModels,
  MODEL_MARKER,
  modelDirFor,
  parseHubId,
  readModelDims,
  resolveModelSource,
  writeModelMarker,
} from '../../src/core/model-store.ts';
import { startFakeHub } from '../helpers/fake-hub.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const golden = (...p: string[]) => sharedPath('golden', 'models', ...p);
let modelsDir = '';
const freshDir = () => (modelsDir = mkdtempSync(join(tmpdir(), 'artprobe-store-')));
afterEach(() => {
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

describe('hub ids', () => {
  it('accepts real ids and maps them to <owner>--<name>', () => {
    for (const id of ['openai/clip-vit-base-patch32', 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K', 'a_b/c.d-1']) {
      const [owner, name] = id.split('/');
      expect(parseHubId(id)).toEqual({ owner, name, id });
      expect(modelDirFor(id, '/m')).toBe(join('/m', `${owner}--${name}`));
    }
  });

  it('refuses path tricks with a message naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['../etc', /contains "\.\."/],
      ['openai/../../x', /contains "\.\."/],
      ['/etc/passwd', /absolute path/],
      ['C:/x', /absolute path/],
      ['openai\\clip', /backslash/],
      ['openai//clip', /empty part/],
      ['openai/', /empty part/],
      ['/', /absolute path|empty part/],
      ['clip', /1 part\(s\)/],
      ['a/b/c', /3 part\(s\)/],
      ['a--b/c', /contains "--"/],
      ['a/.hidden', /not a valid hub name/],
      ['a/b c', /not a valid hub name/],
      ['', /empty/],
    ];
    for (const [id, re] of cases) {
      expect(() => parseHubId(id), id).toThrow(re);
      expect(() => parseHubId(id), id).toThrow(`invalid hub id "${id}"`);
    }
  });
});

describeShared('models folder', ['golden/models/tiny-b32', 'golden/models/tiny-b16'], () => {
  const copyModel = (from: string, to: string, files: string[]) => {
    mkdirSync(to, { recursive: true });
    for (const f of files) copyFileSync(golden(from, f), join(to, f));
  };

  it('lists complete, hand-copied and partial models with sizes, formats and dims', async () => {
    freshDir();
    const hfFiles = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
    // complete: files + a marker whose sizes match
    const done = join(modelsDir, 'artprobe-test--done');
    copyModel('tiny-b32', done, hfFiles);
    const files = hfFiles.map((name) => ({ name, size: statSync(join(done, name)).size, sha256: 'x' }));
    await writeModelMarker(done, {
      id: 'artprobe-test/done',
      revision: 'main',
      commit: 'c0ffee',
      endpoint: 'http://h',
      format: 'hf',
      files,
      pulledAt: new Date().toISOString(),
    });
    // copied by hand: OpenCLIP files, no marker
    copyModel('tiny-b16', join(modelsDir, 'someone--oc-manual'), [
      'open_clip_config.json',
      'open_clip_model.safetensors',
    ]);
    // partial: a .part file
    copyModel('tiny-b32', join(modelsDir, 'someone--half'), ['config.json']);
    writeFileSync(join(modelsDir, 'someone--half', 'model.safetensors.part'), Buffer.alloc(1000));
    // ignored: a folder that is neither a hub folder nor a model
    mkdirSync(join(modelsDir, 'notes'));

    const list = await listModels(modelsDir);
    expect(list.map((m) => [m.id, m.status, m.format])).toEqual([
      ['artprobe-test/done', 'complete', 'hf'],
      ['someone/half', 'partial', 'unknown'],
      ['someone/oc-manual', 'manual', 'open_clip'],
    ]);
    const size = (dir: string, names: string[]) => names.reduce((a, n) => a + statSync(join(dir, n)).size, 0);
    expect(list[0].sizeBytes).toBe(size(done, [...hfFiles, MODEL_MARKER]));
    expect(list[0].commit).toBe('c0ffee');
    expect(list[1].partFiles).toEqual(['model.safetensors.part']);
    expect(list[1].sizeBytes).toBe(
      size(join(modelsDir, 'someone--half'), ['config.json', 'model.safetensors.part']),
    );

    const cfg = JSON.parse(readFileSync(golden('tiny-b32', 'config.json'), 'utf8'));
    expect(list[0].dims).toEqual({
      embedDim: cfg.projection_dim,
      imageSize: cfg.vision_config.image_size,
      patchSize: cfg.vision_config.patch_size,
      visionWidth: cfg.vision_config.hidden_size,
      visionLayers: cfg.vision_config.num_hidden_layers,
      textWidth: cfg.text_config.hidden_size,
      textLayers: cfg.text_config.num_hidden_layers,
    });
    const oc = JSON.parse(readFileSync(golden('tiny-b16', 'open_clip_config.json'), 'utf8')).model_cfg;
    expect(list[2].dims).toMatchObject({
      embedDim: oc.embed_dim,
      visionWidth: oc.vision_cfg.width,
      textLayers: oc.text_cfg.layers,
    });

    // A marker whose file sizes no longer match is not complete.
    writeFileSync(join(done, 'vocab.json'), '{}');
    expect(await isModelComplete(done)).toBe(false);
    expect((await listModels(modelsDir))[0].status).toBe('partial');
    expect(await listModels(join(modelsDir, 'does-not-exist'))).toEqual([]);
  });

  it('reads transformers defaults for fields a config leaves out', async () => {
    freshDir();
    writeFileSync(
      join(modelsDir, 'config.json'),
      JSON.stringify({ projection_dim: 768, vision_config: { patch_size: 14 } }),
    );
    expect(await readModelDims(modelsDir)).toEqual({
      embedDim: 768,
      imageSize: 224,
      patchSize: 14,
      visionWidth: 768,
      visionLayers: 12,
      textWidth: 512,
      textLayers: 12,
    });
  });

  it('resolves folders and hub ids, and says how to pull a missing model', async () => {
    freshDir();
    // A folder path (absolute or relative) with a config is used as is.
    expect(await resolveModelSource(golden('tiny-b32'), { modelsDir })).toBe(golden('tiny-b32'));
    const rel = relative(process.cwd(), golden('tiny-b16'));
    expect(await resolveModelSource(rel.startsWith('.') ? rel : `./${rel}`, { modelsDir })).toBe(
      golden('tiny-b16'),
    );
    await expect(resolveModelSource('./no/such/folder', { modelsDir })).rejects.toThrow(
      /model folder not found/,
    );
    await expect(resolveModelSource(sharedPath('golden'), { modelsDir })).rejects.toThrow(
      /has no config\.json or open_clip_config\.json/,
    );
    // A hub id that is not installed: tell the user what to run.
    await expect(resolveModelSource('openai/clip-vit-base-patch32', { modelsDir })).rejects.toThrow(
      'run `artprobe model pull openai/clip-vit-base-patch32` first',
    );
    await expect(resolveModelSource('../no-such-artprobe-folder', { modelsDir })).rejects.toThrow(
      /model folder not found/,
    );
    await expect(resolveModelSource('owner/../x', { modelsDir })).rejects.toThrow(/invalid hub id .*"\.\."/);
    await expect(resolveModelSource('a\\b', { modelsDir })).rejects.toThrow(/backslash/);
    // Copied in by hand (no marker) is usable; a partial download is not, and the message says pulling resumes it.
    copyModel('tiny-b32', join(modelsDir, 'me--hand'), ['config.json', 'model.safetensors']);
    expect(await resolveModelSource('me/hand', { modelsDir })).toBe(join(modelsDir, 'me--hand'));
    writeFileSync(join(modelsDir, 'me--hand', 'model.safetensors.part'), 'x');
    await expect(resolveModelSource('me/hand', { modelsDir })).rejects.toThrow(
      /partial download .*resumes it/,
    );
  });

  it('autoPull fetches a missing hub model from the hub', async () => {
    freshDir();
    const hub = await startFakeHub();
    try {
      const dir = await resolveModelSource('artprobe-test/tiny-b32', {
        modelsDir,
        autoPull: true,
        pullOptions: { endpoint: hub.endpoint, quiet: true, token: '' },
      });
      expect(dir).toBe(resolve(modelsDir, 'artprobe-test--tiny-b32'));
      expect(await isModelComplete(dir)).toBe(true);
      // Installed now: resolving again needs no network.
      hub.requests.length = 0;
      expect(await resolveModelSource('artprobe-test/tiny-b32', { modelsDir })).toBe(dir);
      expect(hub.requests).toEqual([]);
    } finally {
      await hub.close();
    }
  });
});
