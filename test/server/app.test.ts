/**
 * The server's routes through app.inject with the toy model: normal use and bad input (wrong types, missing
 * fields, oversized and non-image uploads, unknown ids, path traversal in every path-like field).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { METHOD_IDS } from '../../src/attribution/types.ts';
import { decodeNpy, readNpy } from '../../src/core/npy.ts';
import { scoreMap } from '../../src/regions/metrics.ts';
import { rasterizeRegion } from '../../src/regions/rasterize.ts';
import { readW3CAnnotations } from '../../src/regions/w3c.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart, startStaticServer } from './helpers.ts';

const TRAVERSAL = [
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..\\..\\etc\\passwd',
];
const enc = (s: string) => (s.includes('%') ? s : encodeURIComponent(s));

describeShared(
  'server routes (app.inject, toy model)',
  ['toy/A/model', 'toy/A/eval/images', 'paintings'],
  () => {
    let app: FastifyInstance;
    let dir: string;
    let ws: string;
    let pid = '';
    let jobId = '';
    const png = readFileSync(sharedPath('toy/A/eval/images/img_000.png'));
    const png2 = readFileSync(sharedPath('toy/A/eval/images/img_001.png'));
    const wave = readFileSync(sharedPath('paintings/hokusai-great-wave-off-kanagawa-c1831.jpg'));
    const upload = (content: Uint8Array | string, filename = 'a.png', name = 'file') =>
      app.inject({ method: 'POST', url: '/api/paintings', ...multipart([{ name, filename, content }]) });
    const post = (url: string, payload: unknown) =>
      app.inject({ method: 'POST', url, payload: payload as object });
    const waitJob = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const j = (await app.inject(`/api/jobs/${id}`)).json();
        if (['done', 'failed', 'cancelled'].includes(j.state)) return j;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`job ${id} did not finish`);
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'artprobe-server-'));
      ws = join(dir, 'ws');
      app = await buildApp({
        workspace: ws,
        model: sharedPath('toy/A/model'),
        uiDir: join(dir, 'no-ui'),
        maxUploadBytes: 400_000,
        maxPixels: 2_000_000,
        modelsDir: join(dir, 'models'),
        // the import test serves its images from 127.0.0.1 (refused by default: test/server/security.test.ts)
        allowPrivateFetch: true,
      });
      await app.artprobe.modelReady;
    });
    afterAll(async () => {
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('health names backend, model and workspace; OpenAPI lists every route with schemas', async () => {
      const h = (await app.inject('/api/health')).json();
      expect(h.status).toBe('ok');
      expect(h.model.state).toBe('ready');
      // the default engine is ONNX Runtime (onnxruntime-node ships its CPU binary)
      expect(h.backend.name).toBe('onnx');
      expect(h.model.info.engine).toMatch(/^onnx \(onnxruntime-node [\d.]+, cpu, \d+ threads?\)$/);
      expect(h.model.info.embedDim).toBe(64);
      expect(h.model.info.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(h.workspace.dir).toBe(ws);
      const doc = (await app.inject('/api/openapi.json')).json();
      expect(doc.openapi).toBe('3.1.0');
      for (const p of [
        '/api/paintings',
        '/api/paintings/{id}',
        '/api/paintings/import',
        '/api/jobs',
        '/api/jobs/{id}/events',
        '/api/jobs/{id}/maps/{kind}',
        '/api/annotations/{id}',
        '/api/metrics',
        '/api/catalogs',
        '/api/models',
        '/api/models/switch',
        '/api/suites/{name}',
        '/api/paintings/{id}/export',
      ])
        expect(Object.keys(doc.paths)).toContain(p);
      // the job request: one shape per method (tagged by "method"), each with that method's parameters
      const job = doc.paths['/api/jobs'].post.requestBody.content['application/json'].schema;
      expect(job.discriminator).toEqual({ propertyName: 'method' });
      expect(job.oneOf.map((s: { title: string }) => s.title)).toEqual([...METHOD_IDS]);
      for (const s of job.oneOf) expect(s.required).toEqual(['paintingId', 'method', 'target']);
      const smoothgrad = job.oneOf.find((s: { title: string }) => s.title === 'smoothgrad');
      expect(smoothgrad.properties.params.properties.samples).toMatchObject({
        type: 'integer',
        minimum: 1,
        maximum: 4096,
        default: 16,
      });
      expect(smoothgrad.properties.target.oneOf.map((s: { title: string }) => s.title)).toEqual([
        'prompt',
        'label',
        'contrast',
        'ensemble',
      ]);
      // no CORS headers, placeholder UI when not built
      const r = await app.inject({ url: '/api/health', headers: { origin: 'http://evil.example' } });
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      const ui = await app.inject('/');
      expect(ui.statusCode).toBe(200);
      expect(ui.body).toContain('npm run build:ui');
    });

    it('uploads paintings by content, dedupes, lists, serves and refuses bad uploads', async () => {
      const r = await upload(png, '../../etc/passwd');
      expect(r.statusCode).toBe(201);
      const p = r.json();
      pid = p.id;
      expect(p).toMatchObject({ width: 224, height: 224, format: 'png', name: 'passwd', bytes: png.length });
      expect(readdirSync(join(ws, 'paintings'))).toEqual([`${pid}.png`]);
      expect((await upload(png, 'again.png')).json()).toMatchObject({ id: pid, created: false });
      expect((await app.inject('/api/paintings')).json().map((x: { id: string }) => x.id)).toEqual([pid]);
      expect((await app.inject(`/api/paintings/${pid}`)).json().name).toBe('passwd');
      const img = await app.inject(`/api/paintings/${pid}/image`);
      expect(img.headers['content-type']).toBe('image/png');
      expect(img.rawPayload.equals(png)).toBe(true);
      // not an image despite the extension; empty; too large; too many pixels; not multipart; wrong field
      const text = await upload('hello, not an image', 'evil.png');
      expect(text.statusCode).toBe(415);
      expect(text.json().message).toMatch(/not an image/);
      expect((await upload(Buffer.alloc(0), 'empty.png')).statusCode).toBe(400);
      expect((await upload(wave, 'wave.jpg')).statusCode).toBe(wave.length > 400_000 ? 413 : 201);
      const big = await app.inject({
        method: 'POST',
        url: '/api/paintings',
        ...multipart([{ name: 'file', filename: 'big.png', content: Buffer.alloc(500_000, 1) }]),
      });
      expect(big.statusCode).toBe(413);
      const sharp = (await import('sharp')).default;
      const huge = await sharp({ create: { width: 2000, height: 1001, channels: 3, background: '#888' } })
        .png()
        .toBuffer();
      const px = await upload(huge, 'huge.png');
      expect(px.statusCode).toBe(413);
      expect(px.json().message).toMatch(/2000x1001.*above the limit/);
      expect((await post('/api/paintings', { file: 'x' })).statusCode).toBe(415);
      expect((await upload(png, 'a.png', 'other')).statusCode).toBe(400);
      // unknown and malformed ids
      expect((await app.inject(`/api/paintings/${'0'.repeat(64)}`)).statusCode).toBe(404);
      for (const t of TRAVERSAL) {
        for (const u of [
          `/api/paintings/${enc(t)}`,
          `/api/paintings/${enc(t)}/image`,
          `/api/paintings/${enc(t)}/annotations`,
          `/api/paintings/${enc(t)}/export`,
        ]) {
          const res = await app.inject(u);
          expect([400, 404]).toContain(res.statusCode);
          expect(res.body).not.toContain('root:');
        }
        expect((await app.inject({ method: 'DELETE', url: `/api/paintings/${enc(t)}` })).statusCode).toBe(
          400,
        );
      }
    });

    it('imports from an image URL and IIIF Image API (v2, v3, base URL) and says when a URL cannot be reached', async () => {
      const srv = await startStaticServer({
        '/plain.png': { type: 'image/png', body: png2 },
        '/iiif3/abc/info.json': (b) => ({
          type: 'application/ld+json',
          body: JSON.stringify({
            '@context': 'http://iiif.io/api/image/3/context.json',
            id: `${b}/iiif3/abc`,
            type: 'ImageService3',
            width: 224,
            height: 224,
          }),
        }),
        '/iiif3/abc/full/max/0/default.jpg': { type: 'image/png', body: png2 },
        '/iiif2/xyz/info.json': (b) => ({
          type: 'application/json',
          body: JSON.stringify({
            '@context': 'http://iiif.io/api/image/2/context.json',
            '@id': `${b}/iiif2/xyz`,
            width: 224,
            height: 224,
          }),
        }),
        '/iiif2/xyz/full/full/0/default.jpg': {
          type: 'image/jpeg',
          body: wave.subarray(0, 0).length ? wave : png,
        },
        '/page.html': { type: 'text/html', body: '<html>hi</html>' },
      });
      try {
        const plain = await post('/api/paintings/import', { url: `${srv.base}/plain.png` });
        expect(plain.statusCode).toBe(201);
        expect(plain.json()).toMatchObject({
          name: 'plain.png',
          width: 224,
          sourceUrl: `${srv.base}/plain.png`,
        });
        const v3 = await post('/api/paintings/import', { url: `${srv.base}/iiif3/abc/info.json` });
        expect(v3.statusCode).toBe(200); // same bytes as plain.png: deduplicated
        expect(v3.json().id).toBe(plain.json().id);
        const base = await post('/api/paintings/import', { url: `${srv.base}/iiif3/abc`, name: 'abc' });
        expect(base.json().id).toBe(plain.json().id);
        const v2 = await post('/api/paintings/import', { url: `${srv.base}/iiif2/xyz/info.json` });
        expect(v2.json().id).toBe(pid);
        expect((await post('/api/paintings/import', { url: `${srv.base}/page.html` })).statusCode).toBe(415);
        expect((await post('/api/paintings/import', { url: `${srv.base}/missing.png` })).statusCode).toBe(
          502,
        );
      } finally {
        await srv.close();
      }
      const off = await post('/api/paintings/import', { url: 'http://127.0.0.1:1/image.jpg' });
      expect(off.statusCode).toBe(502);
      expect(off.json().message).toMatch(/could not reach http:\/\/127\.0\.0\.1:1\/image\.jpg/);
      for (const url of ['file:///etc/passwd', '../../etc/passwd', 'ftp://x/y.png'])
        expect((await post('/api/paintings/import', { url })).statusCode).toBe(400);
      expect((await post('/api/paintings/import', { url: 5 })).statusCode).toBe(400);
      expect((await post('/api/paintings/import', {})).statusCode).toBe(400);
    });

    it('runs a job with SSE progress, serves its maps and answers an identical request from the cache', async () => {
      const body = {
        paintingId: pid,
        method: 'chefer-all',
        target: { kind: 'prompt', prompt: 'a red circle' },
      };
      const r = await post('/api/jobs', body);
      expect(r.statusCode).toBe(202);
      jobId = r.json().id;
      const sse = await app.inject(`/api/jobs/${jobId}/events`);
      expect(sse.headers['content-type']).toBe('text/event-stream');
      const events = sse.body.split('\n\n').filter((e) => e.startsWith('event:'));
      const last = JSON.parse(events.at(-1)?.split('data: ')[1] ?? '{}');
      expect(last.state).toBe('done');
      const job = await waitJob(jobId);
      expect(job.progress).toEqual({ done: 1, total: 1 });
      expect(job.params).toEqual({ startLayer: 0, batch: 8 });
      const raw = decodeNpy((await app.inject(`/api/jobs/${jobId}/maps/raw.npy`)).rawPayload);
      expect(raw.shape).toEqual([7, 7]);
      const painting = decodeNpy((await app.inject(`/api/jobs/${jobId}/maps/painting.npy`)).rawPayload);
      expect(painting.shape).toEqual([224, 224]);
      const ov = await app.inject(`/api/jobs/${jobId}/maps/overlay.png`);
      expect(ov.headers['content-type']).toBe('image/png');
      expect(ov.rawPayload.subarray(1, 4).toString()).toBe('PNG');
      // same request (key order differs, params spelt out): cache hit, no new computation
      const again = await post('/api/jobs', {
        target: { prompt: 'a red circle', kind: 'prompt' },
        method: 'chefer-all',
        paintingId: pid,
        params: { batch: 8 },
        view: 'crop',
      });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({
        state: 'done',
        cached: true,
        cachedFrom: jobId,
        cacheKey: job.cacheKey,
      });
      const other = await post('/api/jobs', {
        ...body,
        target: { kind: 'contrast', a: 'a red circle', b: 'a blue square' },
      });
      expect(other.json().cacheKey).not.toBe(job.cacheKey);
      expect((await waitJob(other.json().id)).state).toBe('done');
      const list = (await app.inject(`/api/jobs?state=done&paintingId=${pid}`)).json();
      expect(list.length).toBe(3);
      expect((await app.inject('/api/health')).json().jobs.done).toBe(3);
    });

    it('refuses bad job requests and unknown or malformed ids', async () => {
      const good = { paintingId: pid, method: 'gradient', target: { kind: 'prompt', prompt: 'a cat' } };
      const bad: unknown[] = [
        { ...good, paintingId: 5 },
        { ...good, paintingId: '../../etc/passwd' },
        { ...good, method: 'nope' },
        { ...good, method: ['gradient'] },
        { ...good, target: 'a cat' },
        { ...good, target: { kind: 'prompt' } },
        { ...good, target: { kind: 'label', label: 'x', labels: ['y', 'z'] } },
        { ...good, params: { steps: 3 } },
        { ...good, method: 'integrated-gradients', params: { steps: -1 } },
        { ...good, view: 'sideways' },
        { ...good, extra: 1 },
        { paintingId: pid, method: 'gradient' },
        {},
      ];
      for (const b of bad) {
        const r = await post('/api/jobs', b);
        expect(r.statusCode, JSON.stringify(b)).toBe(400);
        expect(r.json().message.length).toBeGreaterThan(5);
      }
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/api/jobs',
            payload: '{not json',
            headers: { 'content-type': 'application/json' },
          })
        ).statusCode,
      ).toBe(400);
      expect((await post('/api/jobs', { ...good, paintingId: 'f'.repeat(64) })).statusCode).toBe(404);
      const unknown = '00000000-0000-4000-8000-000000000000';
      for (const u of [
        `/api/jobs/${unknown}`,
        `/api/jobs/${unknown}/events`,
        `/api/jobs/${unknown}/maps/raw.npy`,
      ])
        expect((await app.inject(u)).statusCode).toBe(404);
      expect((await post(`/api/jobs/${unknown}/cancel`, {})).statusCode).toBe(404);
      expect((await post(`/api/jobs/${jobId}/cancel`, {})).statusCode).toBe(409);
      for (const t of TRAVERSAL) {
        for (const u of [
          `/api/jobs/${enc(t)}`,
          `/api/jobs/${enc(t)}/events`,
          `/api/jobs/${enc(t)}/maps/raw.npy`,
          `/api/jobs/${jobId}/maps/${enc(t)}`,
        ]) {
          const r = await app.inject(u);
          expect([400, 404]).toContain(r.statusCode);
          expect(r.body).not.toContain('root:');
        }
      }
      expect((await app.inject('/api/jobs?limit=abc')).statusCode).toBe(400);
      expect((await app.inject('/api/jobs?state=weird')).statusCode).toBe(400);
      // oversized JSON body
      const huge = await post('/api/jobs', {
        ...good,
        target: { kind: 'prompt', prompt: 'x'.repeat(2_000_000) },
      });
      expect(huge.statusCode).toBe(413);
    });

    it('cancels queued and running jobs', async () => {
      const slow = await post('/api/jobs', {
        paintingId: pid,
        method: 'integrated-gradients',
        params: { steps: 1024 },
        target: { kind: 'prompt', prompt: 'a green triangle' },
      });
      const queued = await post('/api/jobs', {
        paintingId: pid,
        method: 'rollout',
        target: { kind: 'prompt', prompt: 'a green triangle' },
      });
      for (
        let i = 0;
        i < 200 && (await app.inject(`/api/jobs/${slow.json().id}`)).json().state !== 'running';
        i++
      )
        await new Promise((r) => setTimeout(r, 25));
      expect((await post(`/api/jobs/${queued.json().id}/cancel`, {})).json()).toEqual({ ok: true });
      expect((await post(`/api/jobs/${slow.json().id}/cancel`, {})).json()).toEqual({ ok: true });
      expect((await app.inject(`/api/jobs/${slow.json().id}`)).json()).toMatchObject({
        state: 'cancelled',
        error: 'cancelled by request',
      });
      expect((await app.inject(`/api/jobs/${queued.json().id}`)).json().state).toBe('cancelled');
      expect((await app.inject(`/api/jobs/${slow.json().id}/maps/overlay.png`)).statusCode).toBe(409);
      // the worker was replaced: a new job still runs
      const next = await post('/api/jobs', {
        paintingId: pid,
        method: 'rollout',
        target: { kind: 'prompt', prompt: 'a blue circle' },
      });
      expect((await waitJob(next.json().id)).state).toBe('done');
    });

    it('keeps W3C annotations and scores maps against them', async () => {
      const anno = {
        '@context': 'http://www.w3.org/ns/anno.jsonld',
        type: 'Annotation',
        id: '../../etc/passwd',
        body: [
          { type: 'TextualBody', purpose: 'tagging', value: 'red circle' },
          { type: 'TextualBody', purpose: 'classifying', value: 'content' },
        ],
        target: {
          source: 'img_000.png',
          selector: { type: 'FragmentSelector', value: 'xywh=pixel:20,30,60,50' },
        },
      };
      const c = await post(`/api/paintings/${pid}/annotations`, anno);
      expect(c.statusCode).toBe(201);
      const a = c.json();
      expect(a.id).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      const aid = a.id.slice(9);
      const page = (await app.inject(`/api/paintings/${pid}/annotations`)).json();
      expect(page.type).toBe('AnnotationPage');
      expect(page.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
      expect(JSON.parse(readFileSync(join(ws, 'annotations', `${pid}.jsonld`), 'utf8')).items).toHaveLength(
        1,
      );
      const ld = await app.inject({
        method: 'PUT',
        url: `/api/annotations/${aid}`,
        payload: JSON.stringify({
          ...anno,
          target: {
            ...anno.target,
            selector: { type: 'FragmentSelector', value: 'xywh=pixel:10,10,100,100' },
          },
        }),
        headers: { 'content-type': 'application/ld+json' },
      });
      expect(ld.statusCode).toBe(200);
      expect((await app.inject(`/api/annotations/${aid}`)).json().target.selector.value).toBe(
        'xywh=pixel:10,10,100,100',
      );
      // metrics equal a direct computation on the stored map
      const m = await post('/api/metrics', { jobId });
      expect(m.statusCode).toBe(200);
      const row = m.json().rows[0];
      const map = await readNpy(
        join(ws, 'maps', jobId, (await app.inject(`/api/jobs/${jobId}`)).json().result.files.painting),
        'float32',
      );
      const region = readW3CAnnotations({
        ...anno,
        target: { ...anno.target, selector: { type: 'FragmentSelector', value: 'xywh=pixel:10,10,100,100' } },
      }).regions[0];
      const expected = scoreMap(map.data, 224, 224, { mask: rasterizeRegion(region, 224, 224) });
      expect(row.area).toBe(10000);
      expect(row.energy).toBeCloseTo(expected.energy, 6);
      expect(row.auroc).toBeCloseTo(expected.auroc, 6);
      expect(row.pointing).toBe(expected.pointing);
      expect(row.label).toBe('red circle');
      // bad annotations and ids
      expect((await post(`/api/paintings/${pid}/annotations`, { ...anno, type: 'Note' })).statusCode).toBe(
        400,
      );
      expect(
        (
          await post(`/api/paintings/${pid}/annotations`, {
            ...anno,
            target: { source: 'x', selector: { type: 'FragmentSelector', value: 'xywh=oops' } },
          })
        ).statusCode,
      ).toBe(400);
      expect((await post(`/api/paintings/${pid}/annotations`, [anno])).statusCode).toBe(400);
      expect((await post(`/api/paintings/${'a'.repeat(64)}/annotations`, anno)).statusCode).toBe(404);
      const unknown = '00000000-0000-4000-8000-000000000001';
      expect((await app.inject(`/api/annotations/${unknown}`)).statusCode).toBe(404);
      expect((await post('/api/metrics', { jobId, annotationIds: [unknown] })).statusCode).toBe(404);
      expect((await post('/api/metrics', { jobId: unknown })).statusCode).toBe(404);
      expect((await post('/api/metrics', { jobId: '../../etc/passwd' })).statusCode).toBe(400);
      expect((await post('/api/metrics', {})).statusCode).toBe(400);
      for (const t of TRAVERSAL) {
        expect([400, 404]).toContain((await app.inject(`/api/annotations/${enc(t)}`)).statusCode);
        expect([400, 404]).toContain(
          (await app.inject({ method: 'DELETE', url: `/api/annotations/${enc(t)}` })).statusCode,
        );
      }
      // export zip: manifest, annotations, maps
      const z = await app.inject(`/api/paintings/${pid}/export`);
      expect(z.headers['content-type']).toBe('application/zip');
      const files = unzipSync(new Uint8Array(z.rawPayload));
      expect(Object.keys(files)).toContain('manifest.json');
      expect(Object.keys(files)).toContain(`maps/${jobId}/overlay.png`);
      const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']));
      expect(manifest.jobs.map((j: { id: string }) => j.id)).toContain(jobId);
      expect(JSON.parse(new TextDecoder().decode(files['annotations.jsonld'])).items).toHaveLength(1);
      expect(decodeNpy(files[`maps/${jobId}/painting.npy`]).shape).toEqual([224, 224]);
      expect((await app.inject({ method: 'DELETE', url: `/api/annotations/${aid}` })).json()).toEqual({
        ok: true,
      });
      expect((await app.inject({ method: 'DELETE', url: `/api/annotations/${aid}` })).statusCode).toBe(404);
    });

    it('refuses to replace or delete a locked (imported expert) region through any route (423 naming the lock)', async () => {
      const imported = {
        '@context': 'http://www.w3.org/ns/anno.jsonld',
        type: 'AnnotationPage',
        items: [
          {
            type: 'Annotation',
            id: 'urn:expert:1',
            body: [{ type: 'TextualBody', purpose: 'tagging', value: 'green circle' }],
            target: {
              source: 'passwd',
              selector: { type: 'FragmentSelector', value: 'xywh=pixel:5,5,40,40' },
            },
          },
        ],
      };
      const imp = await app.inject({
        method: 'POST',
        url: '/api/annotations/import',
        ...multipart([{ name: 'file', filename: 'expert.jsonld', content: JSON.stringify(imported) }]),
      });
      expect(imp.statusCode).toBe(201);
      expect(imp.json().imported).toBe(1);
      const items = (await app.inject(`/api/paintings/${pid}/annotations`)).json().items;
      const locked = items.find((x: Record<string, unknown>) => x['artprobe:locked'] === true);
      const id = locked.id.slice(9);
      const before = (await app.inject(`/api/annotations/${id}`)).json();
      const moved = {
        type: 'Annotation',
        body: locked.body,
        target: { source: 'passwd', selector: { type: 'FragmentSelector', value: 'xywh=pixel:50,50,40,40' } },
      };
      const put = await app.inject({ method: 'PUT', url: `/api/annotations/${id}`, payload: moved });
      expect(put.statusCode).toBe(423);
      expect(put.json().message).toMatch(
        /is locked \(an expert region imported from expert\.jsonld\).*cannot be replaced.*"locked": false/,
      );
      // a PUT cannot unlock it either
      const sneaky = await app.inject({
        method: 'PUT',
        url: `/api/annotations/${id}`,
        payload: { ...moved, 'artprobe:locked': false },
      });
      expect(sneaky.statusCode).toBe(423);
      const del = await app.inject({ method: 'DELETE', url: `/api/annotations/${id}` });
      expect(del.statusCode).toBe(423);
      expect(del.json().message).toMatch(/is locked .*cannot be deleted/);
      expect((await app.inject(`/api/annotations/${id}`)).json()).toEqual(before);
      // unlocked through a revision, it can be replaced (a new version, origin kept) and deleted
      const rev = await post(`/api/annotations/${id}/revisions`, { baseVersion: 1, locked: false });
      expect(rev.json()).toMatchObject({ version: 2, locked: false });
      const ok = await app.inject({
        method: 'PUT',
        url: `/api/annotations/${id}`,
        payload: { ...moved, 'artprobe:locked': true, 'artprobe:version': 99 },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({
        'artprobe:locked': false,
        'artprobe:version': 3,
        'artprobe:origin': { file: 'expert.jsonld' },
      });
      // a versioned editor holding version 2 now learns of the change
      expect(
        (await post(`/api/annotations/${id}/revisions`, { baseVersion: 2, locked: true })).statusCode,
      ).toBe(409);
      expect((await app.inject({ method: 'DELETE', url: `/api/annotations/${id}` })).statusCode).toBe(200);
    });

    it('imports catalogs (JSON, CSV, parquet) and matches paintings by name', async () => {
      const named = await upload(
        readFileSync(sharedPath('toy/A/eval/images/img_002.png')),
        'hokusai-great-wave-off-kanagawa-c1831.jpg',
      );
      const cat = await app.inject({
        method: 'POST',
        url: '/api/catalogs',
        ...multipart([
          {
            name: 'file',
            filename: '../../catalog.json',
            content: readFileSync(sharedPath('paintings/catalog.json')),
          },
        ]),
      });
      expect(cat.statusCode).toBe(201);
      const expectedRows = JSON.parse(readFileSync(sharedPath('paintings/catalog.json'), 'utf8')).length;
      expect(cat.json()).toMatchObject({
        format: 'json',
        rows: expectedRows,
        matched: 1,
        name: 'catalog.json',
      });
      expect((await app.inject(`/api/paintings/${named.json().id}`)).json().metadata.artist).toBe(
        'Katsushika Hokusai',
      );
      const csv = await app.inject({
        method: 'POST',
        url: '/api/catalogs',
        ...multipart([{ name: 'file', filename: 'c.csv', content: 'file,style\nx.jpg,"Baroque, late"\n' }]),
      });
      expect(csv.json()).toMatchObject({ format: 'csv', rows: 1, columns: ['file', 'style'] });
      const rows = (await app.inject(`/api/catalogs/${csv.json().id}`)).json().items;
      expect(rows).toEqual([{ file: 'x.jpg', style: 'Baroque, late' }]);
      const pq = await app.inject({
        method: 'POST',
        url: '/api/catalogs',
        ...multipart([
          {
            name: 'file',
            filename: 'ai.parquet',
            content: readFileSync(sharedPath('data/clip-art-embeddings/ai_pastiche.parquet')),
          },
        ]),
      });
      if (pq.statusCode === 413) expect(pq.json().message).toMatch(/large/);
      else expect(pq.json().format).toBe('parquet');
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/api/catalogs',
            ...multipart([{ name: 'file', filename: 'b.json', content: '[1, 2]' }]),
          })
        ).statusCode,
      ).toBe(400);
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/api/catalogs',
            ...multipart([{ name: 'file', filename: 'b.json', content: '{oops' }]),
          })
        ).statusCode,
      ).toBe(400);
      expect((await post('/api/catalogs', { rows: [] })).statusCode).toBe(415);
      expect((await app.inject('/api/catalogs')).json().length).toBeGreaterThanOrEqual(2);
      for (const t of TRAVERSAL)
        expect([400, 404]).toContain((await app.inject(`/api/catalogs/${enc(t)}`)).statusCode);
      expect((await app.inject('/api/catalogs/00000000-0000-4000-8000-000000000002')).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url: `/api/catalogs/${csv.json().id}` })).json()).toEqual({
        ok: true,
      });
      expect((await app.inject(`/api/catalogs/${csv.json().id}?limit=0`)).statusCode).toBe(400);
      await app.inject({ method: 'DELETE', url: `/api/paintings/${named.json().id}` });
    });

    it('lists and switches models, refusing unknown and path-like ids', async () => {
      const m = (await app.inject('/api/models')).json();
      expect(m.current.id).toBe('model');
      expect(m.installed.find((x: { loaded: boolean }) => x.loaded).id).toBe('model');
      const sw = await post('/api/models/switch', { model: 'model' });
      expect(sw.statusCode).toBe(200);
      expect(sw.json().fingerprint).toBe(m.current.fingerprint);
      expect((await post('/api/models/switch', { model: 'openai/clip-vit-large-patch14' })).statusCode).toBe(
        404,
      );
      for (const model of ['../../etc/passwd', '/etc/passwd', 'a/../b', 'a/b/c', 7])
        expect((await post('/api/models/switch', { model })).statusCode).toBe(400);
      expect((await post('/api/models/switch', {})).statusCode).toBe(400);
    });

    it('lists default probe suites and keeps workspace suites', async () => {
      const list = (await app.inject('/api/suites')).json();
      expect(list.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['style', 'content']));
      expect((await app.inject('/api/suites/style')).json().origin).toBe('default');
      const suite = {
        name: 'mine',
        description: 'test',
        dimensions: { colour: { templates: ['a {} shape.'], labels: ['red', 'green'] } },
      };
      const put = await app.inject({ method: 'PUT', url: '/api/suites/mine', payload: suite });
      expect(put.statusCode).toBe(200);
      expect(put.json().dimensions[0].labels.map((l: { id: string }) => l.id)).toEqual(['red', 'green']);
      expect(readdirSync(join(ws, 'suites'))).toEqual(['mine.json']);
      expect(
        (await app.inject({ method: 'PUT', url: '/api/suites/mine', payload: { ...suite, dimensions: {} } }))
          .statusCode,
      ).toBe(400);
      expect((await app.inject({ method: 'PUT', url: '/api/suites/other', payload: suite })).statusCode).toBe(
        400,
      );
      expect(
        (await app.inject({ method: 'PUT', url: '/api/suites/style', payload: { ...suite, name: 'style' } }))
          .statusCode,
      ).toBe(409);
      for (const t of TRAVERSAL) {
        expect([400, 404]).toContain((await app.inject(`/api/suites/${enc(t)}`)).statusCode);
        expect([400, 404]).toContain(
          (await app.inject({ method: 'PUT', url: `/api/suites/${enc(t)}`, payload: suite })).statusCode,
        );
      }
      expect((await app.inject('/api/suites/nope')).statusCode).toBe(404);
      expect((await app.inject({ method: 'DELETE', url: '/api/suites/mine' })).json()).toEqual({ ok: true });
    });

    it('serves a built UI from dist/ui without escaping it', async () => {
      const ui = join(dir, 'ui');
      mkdirSync(ui);
      writeFileSync(join(ui, 'index.html'), '<h1>built ui</h1>');
      const other = await buildApp({ workspace: join(dir, 'ws-ui'), uiDir: ui });
      try {
        expect((await other.inject('/')).body).toBe('<h1>built ui</h1>');
        for (const u of ['/../../etc/passwd', '/..%2F..%2Fetc%2Fpasswd', '/%2e%2e/%2e%2e/etc/passwd']) {
          const r = await other.inject(u);
          expect(r.statusCode).not.toBe(200);
          expect(r.body).not.toContain('root:');
        }
        // no model: model features answer 503 with how to get one
        const p = (
          await other.inject({
            method: 'POST',
            url: '/api/paintings',
            ...multipart([{ name: 'file', filename: 'a.png', content: png }]),
          })
        ).json();
        const r = await other.inject({
          method: 'POST',
          url: '/api/jobs',
          payload: { paintingId: p.id, method: 'gradient', target: { kind: 'prompt', prompt: 'x' } },
        });
        expect(r.statusCode).toBe(503);
        expect(r.json().message).toMatch(/artprobe model pull/);
        expect((await other.inject('/api/health')).json().model.state).toBe('none');
      } finally {
        await other.close();
      }
    });

    it('deletes a painting with its jobs and maps; the workspace survives a restart', async () => {
      const before = (await app.inject('/api/health')).json().jobs.total;
      await app.close();
      app = await buildApp({ workspace: ws, model: sharedPath('toy/A/model'), uiDir: join(dir, 'no-ui') });
      await app.artprobe.modelReady;
      expect((await app.inject('/api/health')).json().jobs.total).toBe(before);
      expect((await app.inject(`/api/jobs/${jobId}`)).json().state).toBe('done');
      expect(app.artprobe.ws.integrityCheck()).toBe('ok');
      expect((await app.inject({ method: 'DELETE', url: `/api/paintings/${pid}` })).json()).toEqual({
        ok: true,
      });
      expect((await app.inject(`/api/jobs/${jobId}`)).statusCode).toBe(404);
      expect(readdirSync(join(ws, 'maps'))).not.toContain(jobId);
      expect((await app.inject({ method: 'DELETE', url: `/api/paintings/${pid}` })).statusCode).toBe(404);
    });
  },
);
