/**
 * The parts of batch runs that need no Redis: job keys equal the server's cache keys, method groups, run plans of
 * the toy paintings (deterministic names, shared work for duplicate files, clash checks) and the folder store.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { getMethod } from '../../src/attribution/registry.ts';
import { canonicalJson, jobKey, mapCacheKey, sha256, viewKey } from '../../src/batch/keys.ts';
import { parseMethodGroups, planBatch, suiteTargets } from '../../src/batch/plan.ts';
import { redisOptions } from '../../src/batch/redis.ts';
import { FolderStore, normalizeStoreUri, parseS3Uri } from '../../src/batch/store.ts';
import { canonicalJson as serverCanonicalJson } from '../../src/server/jobs.ts';
import { sha256Hex } from '../../src/server/workspace.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'artprobe-plan-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('canonicalJson and the job key match the server’s cache key', () => {
  const values = [{ b: 1, a: [2, { d: undefined, c: 'x' }] }, [1, 'two', null, true], 'é', 0.1, {}];
  for (const v of values) expect(canonicalJson(v)).toBe(serverCanonicalJson(v));
  const fp = 'f'.repeat(64);
  const img = 'a'.repeat(64);
  const params = getMethod('chefer-all').resolveParams({}) as Record<string, unknown>;
  const target = { kind: 'prompt' as const, prompt: 'a wave' };
  // src/server/jobs.ts: sha256Hex(canonicalJson([fingerprint, painting.id, method, params, target, view]))
  const server = sha256Hex(serverCanonicalJson([fp, img, 'chefer-all', params, target, 'crop']));
  const method = { id: 'chefer-all', params };
  expect(mapCacheKey(fp, img, method, target, 'crop')).toBe(server);
  expect(jobKey({ fingerprint: fp, imageSha: img, methods: [method], targets: [target], view: 'crop' })).toBe(
    server,
  );
  const two = jobKey({
    fingerprint: fp,
    imageSha: img,
    methods: [method],
    targets: [target, { kind: 'prompt', prompt: 'a cloud' }],
    view: 'crop',
  });
  expect(two).not.toBe(server);
  expect(viewKey('tiles')).toBe('tiles');
  expect(viewKey('tiles', 0.5)).toEqual({ kind: 'tiles', overlap: 0.5 });
  expect(sha256('abc')).toBe(sha256Hex('abc'));
});

it('parses method groups and refuses unknown or repeated methods', () => {
  expect(parseMethodGroups('rollout+chefer-last, occlusion')).toEqual([
    ['rollout', 'chefer-last'],
    ['occlusion'],
  ]);
  expect(() => parseMethodGroups('rollout,nope')).toThrow(/unknown attribution method "nope"/);
  expect(() => parseMethodGroups('rollout,rollout')).toThrow(/twice/);
  expect(() => parseMethodGroups(' , ')).toThrow(/at least one/);
});

it('reads Redis URLs and store URIs', () => {
  expect(redisOptions('redis://:s%40cret@10.0.0.5:6380/2')).toMatchObject({
    host: '10.0.0.5',
    port: 6380,
    password: 's@cret',
    db: 2,
    maxRetriesPerRequest: null,
  });
  expect(redisOptions('rediss://h')).toMatchObject({ host: 'h', port: 6379, tls: {} });
  expect(() => redisOptions('http://h:1')).toThrow(/redis:\/\//);
  expect(parseS3Uri('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', prefix: 'a/b/' });
  expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
  expect(normalizeStoreUri('s3://bucket/x/')).toBe('s3://bucket/x');
  expect(() => normalizeStoreUri('gs://b/x')).toThrow(/unsupported/);
});

it('a folder store writes whole files, lists, reads and sweeps old temporary files', async () => {
  const store = new FolderStore(join(tmp, 'store'));
  await store.put('.batch/r/jobs/a.json', '{"a":1}');
  await store.put('.batch/r/jobs/b.json', new Uint8Array([1, 2]));
  const src = join(tmp, 'loose.bin');
  copyFileSync(sharedPath('toy/A/eval/images/img_000.png'), src);
  await store.putFile('x.png', src);
  expect(await store.list('.batch/r/jobs/')).toEqual(['.batch/r/jobs/a.json', '.batch/r/jobs/b.json']);
  expect(new TextDecoder().decode(await store.get('.batch/r/jobs/a.json'))).toBe('{"a":1}');
  expect(await store.get('nope.json')).toBeUndefined();
  expect((await store.get('x.png'))?.length).toBeGreaterThan(0);
  expect(readdirSync(join(tmp, 'store', '.batch', 'tmp'))).toEqual([]);
  await expect(store.put('../escape', 'x')).rejects.toThrow(/bad relative path/);
  expect(await store.sweepTmp(0)).toBe(0);
});

describeShared('batch plans of the toy paintings', ['toy/A/model', 'toy/A/eval/images'], () => {
  const base = {
    model: sharedPath('toy/A/model'),
    targets: [
      { kind: 'prompt' as const, prompt: 'a red circle' },
      { kind: 'prompt' as const, prompt: 'a blue square' },
    ],
    methodGroups: [
      [{ id: 'rollout' }],
      [{ id: 'chefer-last' }, { id: 'occlusion', params: { fill: 'blurred' } }],
    ],
    out: join(tmp, 'out'),
  };

  it('one job per painting × method group, keyed and named the same every time', async () => {
    const a = await planBatch({ ...base, images: { dir: sharedPath('toy/A/eval/images') } });
    const b = await planBatch({ ...base, images: { dir: sharedPath('toy/A/eval/images') } });
    expect(a.jobs).toHaveLength(240);
    expect(a.spec.name).toMatch(/^run-[0-9a-f]{12}$/);
    expect(b.spec.name).toBe(a.spec.name);
    expect(b.jobs.map((j) => j.key)).toEqual(a.jobs.map((j) => j.key));
    expect(new Set(a.jobs.map((j) => j.key)).size).toBe(240);
    expect(a.spec).toMatchObject({
      images: 120,
      jobs: 240,
      methods: ['rollout', 'chefer-last+occlusion'],
      targets: ['a red circle', 'a blue square'],
      modelId: 'model',
      out: join(tmp, 'out'),
    });
    const j = a.jobs[1].data;
    expect(j.names).toEqual([{ name: 'img_000.png', index: 0 }]);
    expect(j.group).toBe(1);
    expect(j.methods.map((m) => m.id)).toEqual(['chefer-last', 'occlusion']);
    expect(j.methods[1].params).toMatchObject({ fill: 'blurred' });
    const other = await planBatch({ ...base, images: { dir: sharedPath('toy/A/eval/images') }, view: 'pad' });
    expect(other.spec.name).not.toBe(a.spec.name);
    expect(other.jobs[0].key).not.toBe(a.jobs[0].key);
  });

  it('computes a painting present under two names once, and refuses names whose maps would clash', async () => {
    const dir = join(tmp, 'dups');
    mkdirSync(dir);
    copyFileSync(sharedPath('toy/A/eval/images/img_000.png'), join(dir, 'a.png'));
    copyFileSync(sharedPath('toy/A/eval/images/img_000.png'), join(dir, 'b.png'));
    copyFileSync(sharedPath('toy/A/eval/images/img_001.png'), join(dir, 'c.png'));
    const p = await planBatch({ ...base, images: { dir }, methodGroups: [[{ id: 'rollout' }]], run: 'dups' });
    expect(p.spec.name).toBe('dups');
    expect(p.jobs).toHaveLength(2);
    expect(p.jobs[0].data.names).toEqual([
      { name: 'a.png', index: 0 },
      { name: 'b.png', index: 1 },
    ]);
    await expect(planBatch({ ...base, images: { dir: join(tmp, 'none') } })).rejects.toThrow(/not a folder/);
    await expect(planBatch({ ...base, images: { dir }, run: 'bad name' })).rejects.toThrow(/--run/);
    await expect(planBatch({ ...base, images: { dir }, targets: [] })).rejects.toThrow(/at least one/);
    copyFileSync(sharedPath('toy/A/eval/images/img_002.png'), join(dir, 'A.png'));
    await expect(planBatch({ ...base, images: { dir } })).rejects.toThrow(/same name/);
  });

  it('reads paintings from a catalog and targets from a probe suite', async () => {
    const dir = join(tmp, 'cat');
    mkdirSync(dir);
    for (const n of ['img_005.png', 'img_006.png'])
      copyFileSync(sharedPath(`toy/A/eval/images/${n}`), join(dir, n));
    writeFileSync(join(dir, 'catalog.csv'), 'file,title\nimg_006.png,six\nimg_005.png,five\n');
    const targets = await suiteTargets(['style']);
    expect(targets.length).toBeGreaterThan(5);
    expect(targets[0]).toMatchObject({ kind: 'label' });
    const first = targets[0] as { labels: string[]; prompts: string[][] };
    expect(first.prompts).toHaveLength(first.labels.length);
    const p = await planBatch({
      ...base,
      images: { catalog: join(dir, 'catalog.csv') },
      targets,
      methodGroups: [[{ id: 'rollout' }]],
    });
    expect(p.jobs.map((j) => j.data.names[0].name)).toEqual(['img_006.png', 'img_005.png']);
    expect(p.jobs[0].data.image).toBe(join(dir, 'img_006.png'));
    expect(p.jobs[0].data.targets).toHaveLength(targets.length);
  });
});
