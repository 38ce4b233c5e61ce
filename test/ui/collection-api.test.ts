/**
 * The server routes the collection UI uses (toy model, a temp workspace, the shared paintings): catalog preview,
 * expert-region import in W3C and COCO with dry run and duplicate detection, versioned and lockable region
 * saves (409 on a stale version, 423 on a locked region), batches (progress, cancel, resume, restart) and their
 * agreement summary, which equals `scoreExplanations` (what `artprobe regions score` runs) on the same maps.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TargetSpec } from '../../src/attribution/target.ts';
import { loadClip } from '../../src/core/clip.ts';
import { decodeImage } from '../../src/core/image-decode.ts';
import { readNpy } from '../../src/core/npy.ts';
import { loadRegionsFile } from '../../src/regions/load.ts';
import { mapFaithfulness } from '../../src/regions/map-faithfulness.ts';
import { scoreExplanations } from '../../src/regions/score-explanations.ts';
import { parseCsv, summarizeAgreement } from '../../src/report/summary.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart, startStaticServer } from '../server/helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'collection-api-'));
const WS = join(tmp, 'ws');
/** A few paintings keep the test quick (the browser test runs the whole gallery). */
const SUBSET = [
  'hokusai-great-wave-off-kanagawa-c1831.jpg',
  'vermeer-girl-with-a-pearl-earring-c1665.jpg',
  'ai-sd-otter-steampunk-portrait-2022.png',
];
let app: FastifyInstance;
const ids: Record<string, string> = {};

const start = async () => {
  // the IIIF test below imports from a local server
  app = await buildApp({ workspace: WS, model: sharedPath('toy', 'A', 'model'), allowPrivateFetch: true });
  await app.artprobe.modelReady;
};

const upload = (url: string, filename: string, content: Buffer) =>
  app.inject({ method: 'POST', url, ...multipart([{ name: 'file', filename, content }]) });

async function waitBatch(
  id: string,
  until: (b: { state: string; counts: Record<string, number> }) => boolean,
) {
  for (let k = 0; k < 600; k++) {
    const b = (await app.inject(`/api/batches/${id}`)).json();
    if (until(b)) return b;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`batch ${id} did not get there`);
}

describeShared(
  'collection API (toy model, shared paintings)',
  ['toy/A/model', 'paintings/catalog.json'],
  () => {
    beforeAll(async () => {
      await start();
      for (const f of SUBSET) {
        const res = await upload('/api/paintings', f, readFileSync(sharedPath('paintings', f)));
        expect(res.statusCode).toBe(201);
        ids[f] = res.json().id;
      }
    });
    afterAll(async () => {
      await app?.close();
    });

    it('previews a catalog: which rows match a painting, which do not, which paintings have no row', async () => {
      const res = await upload(
        '/api/catalogs/preview',
        'catalog.json',
        readFileSync(sharedPath('paintings', 'catalog.json')),
      );
      expect(res.statusCode).toBe(200);
      const p = res.json();
      expect(p.rows).toBe(18);
      expect(p.keyColumn).toBe('file');
      expect(p.matched.map((m: { name: string }) => m.name).sort()).toEqual([...SUBSET].sort());
      expect(p.unmatchedRows).toHaveLength(15);
      expect(p.paintingsWithoutRow).toEqual([]);
      expect((await app.inject('/api/catalogs')).json()).toEqual([]); // nothing stored
      const imp = await upload(
        '/api/catalogs',
        'catalog.json',
        readFileSync(sharedPath('paintings', 'catalog.json')),
      );
      expect(imp.json().matched).toBe(3);
    });

    it('imports W3C regions (dry run first), skips duplicates, and locks them', async () => {
      const file = readFileSync(sharedPath('paintings', 'annotations.jsonld'));
      const dry = await upload('/api/annotations/import?dryRun=true', 'annotations.jsonld', file);
      expect(dry.statusCode).toBe(200);
      const d = dry.json();
      expect(d).toMatchObject({ dryRun: true, format: 'w3c', regions: 72, duplicates: 0 });
      expect(d.matched).toHaveLength(3);
      expect(d.unmatched).toHaveLength(15);
      const expected = d.imported;
      expect(expected).toBeGreaterThan(6);
      expect((await app.inject(`/api/paintings/${ids[SUBSET[0]]}/annotations`)).json().items).toEqual([]);
      const res = await upload('/api/annotations/import', 'annotations.jsonld', file);
      expect(res.statusCode).toBe(201);
      expect(res.json().imported).toBe(expected);
      const again = (await upload('/api/annotations/import', 'annotations.jsonld', file)).json();
      expect(again).toMatchObject({ imported: 0, duplicates: expected });
      const items = (await app.inject(`/api/paintings/${ids[SUBSET[0]]}/annotations`)).json().items;
      expect(items.length).toBe(4);
      expect(items[0]['artprobe:locked']).toBe(true);
      expect(items[0]['artprobe:origin']).toMatchObject({ format: 'w3c', file: 'annotations.jsonld' });
    });

    it('imports COCO regions of a painting by its file name', async () => {
      const coco = {
        images: [{ id: 1, file_name: SUBSET[1], width: 512, height: 600 }],
        categories: [{ id: 7, name: 'pearl' }],
        annotations: [{ id: 3, image_id: 1, category_id: 7, bbox: [10, 20, 30, 40], area: 1200, iscrowd: 0 }],
      };
      const res = await upload(
        '/api/annotations/import?lock=false',
        'coco.json',
        Buffer.from(JSON.stringify(coco)),
      );
      expect(res.json()).toMatchObject({
        format: 'coco',
        imported: 1,
        matched: [{ name: SUBSET[1], regions: 1 }],
      });
      const items = (await app.inject(`/api/paintings/${ids[SUBSET[1]]}/annotations`)).json().items;
      const pearl = items.find((a: { body: { value: string }[] }) => a.body.some((b) => b.value === 'pearl'));
      expect(pearl['artprobe:locked']).toBe(false);
      // leave the workspace's regions as the shared file has them, for the summary check below
      await app.inject({ method: 'DELETE', url: `/api/annotations/${pearl.id.replace('urn:uuid:', '')}` });
    });

    it('saves region versions in order: a stale version gets 409, a locked region 423 until unlocked', async () => {
      const pid = ids[SUBSET[2]];
      const [first] = (await app.inject(`/api/paintings/${pid}/annotations`)).json().items;
      const id = first.id.replace('urn:uuid:', '');
      const moved = structuredClone(first);
      const save = (payload: Record<string, unknown>) =>
        app.inject({ method: 'POST', url: `/api/annotations/${id}/revisions`, payload });
      expect((await save({ baseVersion: 1, annotation: moved })).statusCode).toBe(423);
      const unlocked = await save({ baseVersion: 1, locked: false });
      expect(unlocked.json()).toMatchObject({ version: 2, locked: false });
      expect((await save({ baseVersion: 1, annotation: moved })).statusCode).toBe(409);
      const ok = await save({ baseVersion: 2, annotation: moved });
      expect(ok.json()).toMatchObject({ version: 3, locked: false });
      const relocked = await save({ baseVersion: 3, locked: true });
      expect(relocked.json()).toMatchObject({ version: 4, locked: true });
      const bad = await save({
        baseVersion: 4,
        locked: false,
        annotation: { type: 'Annotation', target: {} },
      });
      expect(bad.statusCode).toBe(400);
    });

    it('runs a batch with progress, cancels and resumes it, survives a restart, and its summary equals regions score', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/api/batches',
        payload: {
          paintingIds: SUBSET.map((f) => ids[f]),
          methods: ['rollout', 'chefer-last', 'occlusion'],
          prompts: ['a face', 'the sea'],
          probe: { suite: 'style', dimension: 'style' },
        },
      });
      expect(created.statusCode).toBe(201);
      const b = created.json();
      // 3 paintings × 3 methods × (2 prompts + the catalog's style where it matches a label)
      expect(b.total).toBeGreaterThanOrEqual(18);
      expect(b.notes.join(' ')).toMatch(/no catalog label for style|^$/);
      await waitBatch(b.id, (x) => x.counts.done >= 2);
      const cancelled = (await app.inject({ method: 'POST', url: `/api/batches/${b.id}/cancel` })).json();
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.counts.queued + cancelled.counts.running).toBe(0);
      // a restart keeps the batch
      await app.close();
      await start();
      const after = (await app.inject(`/api/batches/${b.id}`)).json();
      expect(after).toMatchObject({ id: b.id, state: 'cancelled', total: b.total });
      const resumed = (await app.inject({ method: 'POST', url: `/api/batches/${b.id}/resume` })).json();
      expect(['running', 'done']).toContain(resumed.state);
      const done = await waitBatch(b.id, (x) => x.state !== 'running');
      expect(done).toMatchObject({ state: 'done', fraction: 1 });
      expect(done.counts.done).toBe(b.total);
      let s = (await app.inject(`/api/batches/${b.id}/summary`)).json();
      for (let k = 0; s.state !== 'ready' && k < 600; k++) {
        await new Promise((r) => setTimeout(r, 200));
        s = (await app.inject(`/api/batches/${b.id}/summary`)).json();
      }
      expect(s.state).toBe('ready');
      // scored on the maps as stored (painting pixels), as `artprobe regions score` scores them
      expect(s.metricSide).toBe(0);
      // deletion / insertion of every map (each painting here has regions), one value per map on each region row
      const mapsWithRegions = new Set(s.rows.map((r: { jobId: string }) => r.jobId)).size;
      expect(s.faithfulness).toEqual({
        steps: 16,
        state: 'ready',
        done: mapsWithRegions,
        total: mapsWithRegions,
        failed: 0,
      });
      for (const r of s.rows) {
        expect(Number.isFinite(r.deletion), `${r.painting} ${r.method}`).toBe(true);
        expect(Number.isFinite(r.insertion)).toBe(true);
      }
      // the same numbers as the games played here on the job's raw map, painting, view and target
      const row = s.rows.find((r: { method: string }) => r.method === 'chefer-last');
      const job = app.artprobe.ws.getJob(row.jobId);
      const raw = await readNpy(
        join(WS, 'maps', job?.result?.mapsJob ?? '', job?.result?.files.raw ?? ''),
        'float32',
      );
      const clip = await loadClip(sharedPath('toy', 'A', 'model'));
      try {
        const mine = await mapFaithfulness(clip, {
          image: await decodeImage(sharedPath('paintings', row.painting)),
          view: job?.view as 'pad',
          target: job?.target as TargetSpec,
          raw: raw.data as Float32Array,
          rawShape: raw.shape,
          steps: 16,
        });
        expect(row.deletion).toBeCloseTo(mine.deletion, 4);
        expect(row.insertion).toBeCloseTo(mine.insertion, 4);
        expect(mine.score).toBeCloseTo(row.score, 3);
      } finally {
        clip.dispose();
      }
      // the maps the summary scored, exported as an `artprobe explain` folder with the regions, scored by the
      // CLI's scorer
      const zip = await app.inject(`/api/batches/${b.id}/maps.zip`);
      expect(zip.headers['content-disposition']).toMatch(/artprobe-maps-.*\.zip/);
      const dir = join(tmp, 'explain');
      for (const [name, bytes] of Object.entries(unzipSync(zip.rawPayload))) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), bytes);
      }
      const { regions } = await loadRegionsFile(join(dir, 'annotations.jsonld'));
      expect(regions).toHaveLength(12);
      const cli = await scoreExplanations(dir, regions, { tolerance: 15 });
      expect(cli.notes).toEqual([]);
      expect(s.rows.length).toBe(cli.rows.length);
      const key = (r: {
        image?: string;
        painting?: string;
        regionId: string;
        method: string;
        target?: string;
        prompt?: string;
      }) =>
        `${r.painting ?? r.image}|${r.regionId.replace('urn:uuid:', '')}|${r.method}|${r.target ?? r.prompt}`;
      const byKey = new Map(cli.rows.map((r) => [key(r), r]));
      for (const r of s.rows) {
        const c = byKey.get(key(r));
        expect(c, key(r)).toBeDefined();
        for (const m of ['pointing', 'pointingTol', 'energy', 'auroc', 'iouTopK', 'nss'] as const)
          expect(r[m] ?? Number.NaN).toBeCloseTo(c?.[m] ?? Number.NaN, 10);
      }
      const mine = summarizeAgreement(s.rows).byMethod;
      for (const m of cli.byMethod) {
        const x = mine.find((y) => y.method === m.method);
        for (const k of ['pointing', 'energy', 'auroc', 'iouTopK'] as const)
          expect(x?.mean[k]).toBeCloseTo(m[k], 10);
      }
      // CSV: the same rows
      const csv = await app.inject(`/api/batches/${b.id}/summary.csv`);
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      expect(csv.headers['content-disposition']).toMatch(/artprobe-agreement-.*\.csv/);
      const parsed = parseCsv(csv.body);
      expect(parsed).toHaveLength(s.rows.length);
      expect(Number(parsed[0].auroc)).toBeCloseTo(s.rows[0].auroc, 12);
      expect(Number(parsed[0].deletion)).toBeCloseTo(s.rows[0].deletion, 12);
      expect(Number(parsed[0].insertion)).toBeCloseTo(s.rows[0].insertion, 12);
      // the summary's deletion / insertion survive a restart (kept in the workspace, not computed again)
      await app.close();
      await start();
      const again = (await app.inject(`/api/batches/${b.id}/summary`)).json();
      expect(again.faithfulness).toMatchObject({ state: 'ready', done: mapsWithRegions });
      expect(again.rows.map((r: { deletion: number }) => r.deletion)).toEqual(
        s.rows.map((r: { deletion: number }) => r.deletion),
      );
    });

    it('scores at painting pixels by default, equal to regions score on the stored map and the original file; 256 px only when asked', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/api/batches',
        payload: { paintingIds: [ids[SUBSET[0]]], methods: ['rollout'], prompts: ['a face'] },
      });
      const b = created.json();
      await waitBatch(b.id, (x) => x.state !== 'running');
      let s = (await app.inject(`/api/batches/${b.id}/summary`)).json();
      for (let k = 0; s.state !== 'ready' && k < 300; k++) {
        await new Promise((r) => setTimeout(r, 200));
        s = (await app.inject(`/api/batches/${b.id}/summary`)).json();
      }
      expect(s).toMatchObject({ state: 'ready', metricSide: 0 });
      const job = (app as FastifyInstance).artprobe.ws.getJob(s.rows[0].jobId);
      const dir = join(tmp, 'exact');
      await mkdir(dir, { recursive: true });
      const file = join(WS, 'maps', job?.result?.mapsJob ?? '', job?.result?.files.painting ?? '');
      writeFileSync(
        join(dir, 'manifest.json'),
        JSON.stringify({
          entries: [
            { image: SUBSET[0], method: 'rollout', target: 'a face', map_painting: relative(dir, file) },
          ],
        }),
      );
      const { regions } = await loadRegionsFile(sharedPath('paintings', 'annotations.jsonld'));
      const cli = await scoreExplanations(dir, regions, { tolerance: 15 });
      expect(cli.rows).toHaveLength(4);
      expect(s.rows).toHaveLength(4);
      for (const c of cli.rows) {
        const r = s.rows.find((x: { region: string }) => x.region === c.region);
        for (const m of ['pointing', 'energy', 'auroc', 'iouTopK', 'nss'] as const)
          expect(r[m]).toBeCloseTo(c[m], 10);
      }
      // a reduction is an explicit choice, and deletion / insertion can be left out
      const small = (
        await app.inject({
          method: 'POST',
          url: '/api/batches',
          payload: {
            paintingIds: [ids[SUBSET[0]]],
            methods: ['rollout'],
            prompts: ['a face'],
            metricSide: 256,
            faithfulnessSteps: 0,
          },
        })
      ).json();
      expect(small).toMatchObject({ metricSide: 256, faithfulnessSteps: 0 });
      let t = (await app.inject(`/api/batches/${small.id}/summary`)).json();
      for (let k = 0; t.state !== 'ready' && k < 300; k++) {
        await new Promise((r) => setTimeout(r, 200));
        t = (await app.inject(`/api/batches/${small.id}/summary`)).json();
      }
      expect(t).toMatchObject({ metricSide: 256, faithfulness: { steps: 0, state: 'off' } });
      expect(t.rows[0].deletion).toBeUndefined();
      expect(t.rows[0].auroc).not.toBeCloseTo(
        s.rows.find((x: { region: string }) => x.region === t.rows[0].region).auroc,
        10,
      );
    });

    it('serves regions of a IIIF painting from its image service, for deep zoom', async () => {
      const jpg = readFileSync(sharedPath('paintings', SUBSET[0]));
      const small = await sharp(jpg).resize(40).jpeg().toBuffer();
      const srv = await startStaticServer({
        '/iiif/wave/info.json': (base) => ({
          type: 'application/json',
          body: JSON.stringify({
            '@context': 'http://iiif.io/api/image/3/context.json',
            id: `${base}/iiif/wave`,
            width: 7680,
            height: 5460,
          }),
        }),
        '/iiif/wave/full/max/0/default.jpg': {
          type: 'image/jpeg',
          body: await sharp(jpg).resize(300).jpeg().toBuffer(),
        },
        '/iiif/wave/1000,2000,3000,1500/800,/0/default.jpg': { type: 'image/jpeg', body: small },
      });
      try {
        const imp = await app.inject({
          method: 'POST',
          url: '/api/paintings/import',
          payload: { url: `${srv.base}/iiif/wave/info.json` },
        });
        expect(imp.statusCode).toBe(201);
        const pid = imp.json().id;
        expect((await app.inject(`/api/paintings/${pid}/iiif/info`)).json()).toEqual({
          width: 7680,
          height: 5460,
        });
        const region = await app.inject(
          `/api/paintings/${pid}/iiif/region?x=1000&y=2000&w=3000&h=1500&size=800`,
        );
        expect(region.statusCode).toBe(200);
        expect(region.headers['content-type']).toBe('image/jpeg');
        expect(Buffer.compare(region.rawPayload, small)).toBe(0);
        expect(
          (await app.inject(`/api/paintings/${pid}/iiif/region?x=7000&y=0&w=3000&h=10&size=80`)).statusCode,
        ).toBe(400);
        // a painting that did not come from IIIF has no service
        expect((await app.inject(`/api/paintings/${ids[SUBSET[0]]}/iiif/info`)).statusCode).toBe(404);
        await app.inject({ method: 'DELETE', url: `/api/paintings/${pid}` });
      } finally {
        await srv.close();
      }
    });

    it("tells a painting's catalog label for a probe dimension", async () => {
      const res = await app.inject(
        `/api/paintings/${ids[SUBSET[0]]}/catalog-truth?suite=style&dimension=style`,
      );
      expect(res.json()).toMatchObject({ field: 'style', value: 'Ukiyo-e', label: 'Ukiyo-e' });
      const vermeer = (
        await app.inject(`/api/paintings/${ids[SUBSET[1]]}/catalog-truth?suite=style&dimension=style`)
      ).json();
      expect(vermeer.label).toBe('Baroque');
    });
  },
);
