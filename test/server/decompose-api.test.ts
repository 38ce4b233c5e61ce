/**
 * The decomposition and steering routes through app.inject with the toy model (ONNX engine in the server's
 * worker): the API's head scores and head maps for a toy painting equal those of the library (`ClipDecomposer`
 * on a TF.js copy of the same model, called here directly) within 1e-5 and the terms add up to the embedding;
 * steering toward a caption moves the answer there and reports PSNR; head roles and robustness curves run as
 * tasks (progress, result, cancel); every user-set count is bounded (400 naming the field) before work starts;
 * unknown paintings, dimensions and results are named in the errors; cross-site posts are refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Clip, loadClip } from '../../src/core/clip.ts';
import { decodeNpy } from '../../src/core/npy.ts';
import { ClipDecomposer, headTokenMap, patchGrid } from '../../src/decompose/decompose.ts';
import { textDirections } from '../../src/decompose/directions.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { multipart } from './helpers.ts';

const CAPTIONS = ['red', 'green', 'blue'].flatMap((c) =>
  ['circle', 'square', 'triangle'].map((s) => `a ${c} ${s}`),
);
const SHAPES_SUITE = {
  name: 'shapes',
  description: 'the toy model captions',
  dimensions: { caption: { templates: ['{}'], labels: CAPTIONS } },
};

describeShared(
  'decomposition and steering API (app.inject, toy model)',
  ['toy/A/model', 'toy/A/eval/images'],
  () => {
    let app: FastifyInstance;
    let dir: string;
    const ids: string[] = [];
    const image = (i: number) => sharedPath('toy/A/eval/images', `img_${String(i).padStart(3, '0')}.png`);
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, payload: payload as object, headers });
    const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
      const t0 = performance.now();
      const out = await f();
      return [out, performance.now() - t0];
    };
    const waitTask = async (id: string) => {
      for (let i = 0; i < 1200; i++) {
        const t = (await app.inject(`/api/diagnostics/tasks/${id}`)).json();
        if (['done', 'failed', 'cancelled'].includes(t.state)) return t;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${id} did not finish`);
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'artprobe-decompose-api-'));
      app = await buildApp({
        workspace: join(dir, 'ws'),
        model: sharedPath('toy/A/model'),
        uiDir: join(dir, 'no-ui'),
        modelsDir: join(dir, 'models'),
      });
      await app.artprobe.modelReady;
      for (const i of [0, 1, 2, 3]) {
        const body = multipart([{ name: 'file', filename: `img_${i}.png`, content: readFileSync(image(i)) }]);
        const r = await app.inject({ method: 'POST', url: '/api/paintings', ...body });
        expect(r.statusCode).toBe(201);
        ids.push(r.json().id);
      }
      const put = await app.inject({ method: 'PUT', url: '/api/suites/shapes', payload: SHAPES_SUITE });
      expect(put.statusCode).toBe(200);
    });
    afterAll(async () => {
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("answers the library's head scores and maps (within 1e-5); the terms add up to the embedding", async () => {
      const [res, ms] = await timed(() =>
        post(`/api/paintings/${ids[1]}/decompose`, { texts: CAPTIONS, versusRest: true }),
      );
      expect(res.statusCode, res.body).toBe(200);
      const d = res.json();
      console.log(
        `decompose (toy, 9 directions, first request: builds the worker's TF.js copy): ${ms.toFixed(0)} ms`,
      );
      expect([d.layers, d.heads, d.grid, d.view, d.cached]).toEqual([4, 4, 7, 'crop', false]);
      expect(d.id).toMatch(/^[0-9a-f]{64}$/);
      expect(d.reconstructionError).toBeLessThan(1e-4);
      expect(d.streamError).toBeLessThan(1e-4);
      expect(d.directions.map((x: { label: string }) => x.label)[0]).toBe('a red circle − mean(rest)');
      expect(d.inputRect).toEqual({ x: 0, y: 0, w: 224, h: 224 });
      // every term's score adds up to ⟨embedding, direction⟩
      for (const x of d.directions) {
        const sum =
          x.heads.flat().reduce((a: number, b: number) => a + b, 0) +
          x.mlp.reduce((a: number, b: number) => a + b, 0) +
          x.attentionBias.reduce((a: number, b: number) => a + b, 0) +
          x.embed +
          x.lnPostBias;
        expect(Math.abs(sum - x.total)).toBeLessThan(1e-5);
      }
      // the library, called directly on a TF.js copy of the same model
      const clip: Clip = await loadClip(sharedPath('toy/A/model'), { engine: 'tfjs', backend: 'wasm' });
      const dec = await ClipDecomposer.forClip(clip);
      try {
        const dirs = await textDirections(clip, CAPTIONS, { versusRest: true });
        const [pre] = await clip.preprocess([image(1)]);
        const [lib] = await dec.decompose(pre.pixelValues, 1, dirs);
        let maxDiff = 0;
        let maxMapDiff = 0;
        for (const [k, x] of d.directions.entries()) {
          expect(Math.abs(x.total - lib.totals[k])).toBeLessThan(1e-5);
          for (const t of lib.terms) {
            if (t.kind !== 'head' || t.layer === null || t.head === undefined) continue;
            maxDiff = Math.max(maxDiff, Math.abs(x.heads[t.layer][t.head] - t.scores[k]));
          }
        }
        // one head's map, and the total map of the first direction
        for (const [layer, head] of [
          [3, 1],
          [0, 2],
        ]) {
          const r = await app.inject(
            `/api/decompositions/${d.id}/map.npy?direction=0&layer=${layer}&head=${head}`,
          );
          expect(r.statusCode).toBe(200);
          const m = decodeNpy(new Uint8Array(r.rawPayload), 'map.npy', 'float32');
          expect(m.shape).toEqual([7, 7]);
          const tokens = headTokenMap(lib, layer, head, 0);
          const ref = patchGrid(tokens);
          ref.forEach((v, i) => (maxMapDiff = Math.max(maxMapDiff, Math.abs(v - m.data[i]))));
          // a head's map and its class-token part sum to its score
          const sum = Array.from(m.data).reduce((a, b) => a + b, 0) + d.directions[0].clsToken[layer][head];
          expect(Math.abs(sum - d.directions[0].heads[layer][head])).toBeLessThan(1e-5);
        }
        console.log(
          `API vs library: max |Δ head score| ${maxDiff.toExponential(2)}, max |Δ map| ${maxMapDiff.toExponential(2)}`,
        );
        expect(maxDiff).toBeLessThan(1e-5);
        expect(maxMapDiff).toBeLessThan(1e-5);
      } finally {
        dec.dispose();
        clip.dispose();
      }
      const heads = await app.inject(`/api/decompositions/${d.id}/heads.npy?direction=2`);
      const all = decodeNpy(new Uint8Array(heads.rawPayload), 'heads.npy', 'float32');
      expect(all.shape).toEqual([4, 4, 7, 7]);
      // again: answered from memory, same id; a probe dimension's labels versus the rest
      const [again, ms2] = await timed(() =>
        post(`/api/paintings/${ids[1]}/decompose`, { texts: CAPTIONS, versusRest: true }),
      );
      expect(again.json()).toMatchObject({ id: d.id, cached: true });
      const [byDim, ms3] = await timed(() =>
        post(`/api/paintings/${ids[1]}/decompose`, { suite: 'shapes', dimension: 'caption' }),
      );
      expect(byDim.statusCode, byDim.body).toBe(200);
      console.log(
        `decompose: cached ${ms2.toFixed(0)} ms; a dimension's 9 labels (warm) ${ms3.toFixed(0)} ms`,
      );
      const a = byDim.json().directions;
      expect(a.map((x: { label: string }) => x.label)).toEqual(CAPTIONS.map((c) => `${c} − mean(rest)`));
      expect(a[0].kind).toBe('versus-rest');
    });

    it('bounds every count before work starts and names the problem', async () => {
      const pid = ids[0];
      const bad: [string, unknown, number, RegExp][] = [
        [`/api/paintings/${pid}/decompose`, { texts: Array(17).fill('a') }, 400, /texts/],
        [`/api/paintings/${pid}/decompose`, { texts: ['a'], view: 'tiles' }, 400, /view/],
        [`/api/paintings/${pid}/decompose`, {}, 400, /give "texts".*or "dimension"/],
        [`/api/paintings/${pid}/decompose`, { texts: ['a|b|c'] }, 400, /texts\[0\]/],
        [
          `/api/paintings/${pid}/decompose`,
          { texts: ['a', 'b|c'], versusRest: true },
          400,
          /versusRest needs/,
        ],
        [`/api/paintings/${pid}/decompose`, { texts: ['a'], dimension: 'caption' }, 400, /not both/],
        [`/api/paintings/${pid}/decompose`, { dimension: 'nosuch' }, 400, /unknown dimension "nosuch"/],
        [`/api/paintings/${'0'.repeat(64)}/decompose`, { texts: ['a'] }, 404, /painting 0+ not found/],
        [`/api/paintings/${pid}/steer`, { toward: 'a', steps: 201 }, 400, /steps/],
        [`/api/paintings/${pid}/steer`, { toward: 'a', steps: 0 }, 400, /steps/],
        [`/api/paintings/${pid}/steer`, { toward: 'a', epsilon: 0 }, 400, /epsilon/],
        [`/api/paintings/${pid}/steer`, { toward: 'a', epsilon: 33 }, 400, /epsilon/],
        [`/api/paintings/${pid}/steer`, { toward: 'a', topK: 11 }, 400, /topK/],
        [`/api/paintings/${pid}/steer`, { toward: '' }, 400, /toward/],
        [
          `/api/paintings/${pid}/steer`,
          { toward: 'a', labels: ['b', 'c'] },
          400,
          /labels must contain the toward/,
        ],
        [`/api/paintings/${pid}/steer`, { toward: 'a', away: 'b', labels: ['a', 'b'] }, 400, /not both/],
        [
          `/api/paintings/${pid}/steer`,
          { toward: 'a', dimensions: ['nosuch'] },
          400,
          /unknown dimension "nosuch"/,
        ],
        [`/api/paintings/${pid}/steer`, { toward: 'a', suites: ['nosuch'] }, 400, /unknown suite "nosuch"/],
        ['/api/decompose/heads', { paintingIds: [pid] }, 400, /paintingIds/],
        [
          '/api/decompose/heads',
          { paintingIds: Array.from({ length: 501 }, (_, i) => i.toString(16).padStart(64, '0')) },
          400,
          /paintingIds/,
        ],
        ['/api/decompose/heads', { paintingIds: ids, textsPerHead: 21 }, 400, /textsPerHead/],
        ['/api/decompose/heads', { paintingIds: ids, rank: 513 }, 400, /rank/],
        ['/api/decompose/heads', { paintingIds: [pid, pid] }, 400, /paintingIds/],
        ['/api/decompose/heads', { paintingIds: [pid, '1'.repeat(64)] }, 404, /painting 1+ not found/],
        ['/api/decompose/heads', { paintingIds: ids, vocabulary: '# nothing\n' }, 400, /no descriptions/],
        ['/api/steer/robustness', { paintingIds: [pid], dimensions: [] }, 400, /dimensions/],
        [
          '/api/steer/robustness',
          {
            paintingIds: [pid],
            dimensions: ['caption'],
            suites: ['shapes'],
            epsilons: [1, 2, 3, 4, 5, 6, 7, 8, 9],
          },
          400,
          /epsilons/,
        ],
        [
          '/api/steer/robustness',
          { paintingIds: [pid], dimensions: ['caption'], suites: ['shapes'], epsilons: [65] },
          400,
          /epsilons/,
        ],
        [
          '/api/steer/robustness',
          { paintingIds: [pid], dimensions: ['caption'], suites: ['shapes'], steps: 1000 },
          400,
          /steps/,
        ],
      ];
      for (const [url, body, code, msg] of bad) {
        const r = await post(url, body);
        expect(r.statusCode, `${url} ${JSON.stringify(body).slice(0, 80)}: ${r.body}`).toBe(code);
        expect(r.json().message, url).toMatch(msg);
      }
      // results that are not (or no longer) kept, and out-of-range selections
      const none = 'f'.repeat(64);
      expect((await app.inject(`/api/decompositions/${none}/heads.npy`)).json().message).toMatch(
        /decomposition f+ is not in the server's memory/,
      );
      expect((await app.inject(`/api/steers/${none}/steered.png`)).statusCode).toBe(404);
      expect((await app.inject(`/api/steers/${none}/../../etc/passwd`)).statusCode).toBe(404);
      const d = (await post(`/api/paintings/${pid}/decompose`, { texts: ['a red circle'] })).json();
      for (const [q, m] of [
        ['direction=1', /direction 1 is out of range/],
        ['layer=4', /layer 4 is out of range \(0\.\.3, or all\)/],
        ['head=9', /head 9 is out of range/],
        ['layer=x', /layer/],
      ] as const) {
        const r = await app.inject(`/api/decompositions/${d.id}/map.npy?${q}`);
        expect(r.statusCode, q).toBe(400);
        expect(r.json().message).toMatch(m);
      }
      expect(
        (await app.inject('/api/diagnostics/tasks/00000000-0000-4000-8000-000000000000')).statusCode,
      ).toBe(404);
    });

    it('steers a toy painting toward another caption: the answer moves there, with PSNR and the images', async () => {
      const [res, ms] = await timed(() =>
        post(`/api/paintings/${ids[1]}/steer`, {
          toward: 'a blue square',
          labels: CAPTIONS,
          epsilon: 8,
          steps: 40,
          suites: ['shapes'],
        }),
      );
      expect(res.statusCode, res.body).toBe(200);
      const s = res.json();
      console.log(
        `steer (toy, 40 steps, ε 8/255): ${ms.toFixed(0)} ms; ${s.dimensions[0].before.top} → ${s.dimensions[0].after.top}, ` +
          `p(target) ${s.score.before.toFixed(3)} → ${s.score.after.toFixed(3)} (painting ${s.score.afterPainting.toFixed(3)}), ` +
          `PSNR ${s.change.input.psnr.toFixed(1)} dB, SSIM ${s.change.input.ssim.toFixed(3)}`,
      );
      expect(s.scoreKind).toBe('probability');
      expect(s.epsilon255).toBe(8);
      expect(s.score.after).toBeGreaterThan(s.score.before);
      const caption = s.dimensions.find((x: { name: string }) => x.name === 'caption');
      expect(caption.before.top).not.toBe('a blue square');
      expect(caption.after.top).toBe('a blue square');
      expect(caption.flipped).toBe(true);
      expect(s.change.input.linf).toBeLessThanOrEqual(8 / 255 + 1e-6);
      expect(s.change.input.psnr).toBeGreaterThan(25);
      expect(s.change.input.psnr).toBeLessThan(60);
      expect(s.change.input.ssim).toBeGreaterThan(0.5);
      // the images and the perturbation itself
      for (const f of ['original.png', 'steered.png', 'perturbation.png', 'painting.png']) {
        const r = await app.inject(s.files[f]);
        expect(r.headers['content-type']).toBe('image/png');
        const meta = await sharp(r.rawPayload).metadata();
        expect([meta.width, meta.height]).toEqual([224, 224]);
      }
      const npy = decodeNpy(
        new Uint8Array((await app.inject(s.files['perturbation.npy'])).rawPayload),
        'p',
        'float32',
      );
      expect(npy.shape).toEqual([3, 224, 224]);
      const maxAbs = Array.from(npy.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbs).toBeLessThanOrEqual(8 / 255 + 1e-6);
      expect(maxAbs).toBeGreaterThan(4 / 255);
      // identical request: from memory
      const again = await post(`/api/paintings/${ids[1]}/steer`, {
        toward: 'a blue square',
        labels: CAPTIONS,
        epsilon: 8,
        steps: 40,
        suites: ['shapes'],
      });
      expect(again.json()).toMatchObject({ id: s.id, cached: true });
    });

    it('runs head roles and robustness curves as tasks with progress, and cancels one', async () => {
      const [created, ms] = await timed(async () => {
        const r = await post('/api/decompose/heads', { paintingIds: ids, lastLayers: 2, textsPerHead: 3 });
        expect(r.statusCode, r.body).toBe(202);
        return waitTask(r.json().id);
      });
      expect(created.state, created.error).toBe('done');
      const roles = created.headRoles;
      console.log(`head roles (toy, 4 paintings, 2 layers, shipped vocabulary): ${ms.toFixed(0)} ms`);
      expect(roles.layers).toEqual([2, 3]);
      expect(roles.heads).toHaveLength(8);
      expect(roles.images).toBe(4);
      expect(roles.vocabulary.descriptions).toBeGreaterThan(300);
      expect(roles.reconstructionError).toBeLessThan(1e-4);
      for (const h of roles.heads) {
        expect(h.descriptions).toHaveLength(3);
        expect(h.explained).toBeGreaterThan(0);
        expect(h.explained).toBeLessThanOrEqual(1 + 1e-9);
      }
      expect(created.progress).toEqual({ done: 4, total: 4 });
      const [curves, ms2] = await timed(async () => {
        const r = await post('/api/steer/robustness', {
          paintingIds: [ids[0], ids[2]],
          suites: ['shapes'],
          dimensions: ['caption'],
          epsilons: [1, 4, 16],
          steps: 20,
        });
        expect(r.statusCode, r.body).toBe(202);
        return waitTask(r.json().id);
      });
      expect(curves.state, curves.error).toBe('done');
      console.log(`robustness (toy, 2 paintings × 1 dimension × 3 budgets, 20 steps): ${ms2.toFixed(0)} ms`);
      const rob = curves.robustness;
      expect(rob.epsilons255).toEqual([1, 4, 16]);
      expect(rob.rows.map((r: { paintingId: string }) => r.paintingId)).toEqual([ids[0], ids[2]]);
      for (const row of rob.rows) {
        const c = row.dimensions[0];
        expect(c.curve).toHaveLength(3);
        // a larger budget never flips less: the smallest flipping budget is the first flipped point
        const first = c.curve.find((p: { flipped: boolean }) => p.flipped);
        expect(c.smallestEpsilon255).toBe(first ? first.epsilon255 : null);
      }
      expect(rob.summary[0]).toMatchObject({ dimension: 'caption', paintings: 2 });
      const list = (await app.inject('/api/diagnostics/tasks')).json();
      expect(list.map((t: { id: string }) => t.id)).toEqual([curves.id, created.id]);
      expect(list[0].robustness).toBeUndefined();
      // a long task, cancelled while it runs: its worker is replaced and the next request still works
      const long = await post('/api/steer/robustness', {
        paintingIds: ids,
        suites: ['shapes'],
        dimensions: ['caption'],
        epsilons: [0.01, 0.02],
        steps: 200,
      });
      expect(long.json().state).toBe('queued');
      for (let i = 0; i < 200; i++) {
        if ((await app.inject(`/api/diagnostics/tasks/${long.json().id}`)).json().state === 'running') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect((await app.inject(`/api/diagnostics/tasks/${long.json().id}`)).json().state).toBe('running');
      const cancelled = await post(`/api/diagnostics/tasks/${long.json().id}/cancel`, {});
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json()).toMatchObject({ state: 'cancelled', error: 'cancelled by request' });
      expect((await post(`/api/diagnostics/tasks/${long.json().id}/cancel`, {})).statusCode).toBe(409);
      const after = await post(`/api/paintings/${ids[3]}/decompose`, {
        texts: ['a red circle|a blue circle'],
      });
      expect(after.statusCode, after.body).toBe(200);
      expect(after.json().directions[0].kind).toBe('contrast');
    });

    it('is covered by the security hooks and listed in the OpenAPI document', async () => {
      for (const url of [
        `/api/paintings/${ids[0]}/decompose`,
        `/api/paintings/${ids[0]}/steer`,
        '/api/decompose/heads',
      ]) {
        const r = await post(url, { texts: ['a'], toward: 'a' }, { origin: 'http://evil.example' });
        expect(r.statusCode, url).toBe(403);
      }
      const r = await app.inject({ url: '/api/diagnostics/tasks', headers: { host: 'attacker.example' } });
      expect(r.statusCode).toBe(403);
      const doc = (await app.inject('/api/openapi.json')).json();
      for (const p of [
        '/api/paintings/{id}/decompose',
        '/api/decompositions/{id}/heads.npy',
        '/api/decompositions/{id}/map.npy',
        '/api/paintings/{id}/steer',
        '/api/steers/{id}/{file}',
        '/api/decompose/heads',
        '/api/steer/robustness',
        '/api/diagnostics/tasks/{id}',
        '/api/diagnostics/tasks/{id}/cancel',
      ])
        expect(Object.keys(doc.paths)).toContain(p);
      const steer =
        doc.paths['/api/paintings/{id}/steer'].post.requestBody.content['application/json'].schema;
      expect(steer.properties.steps).toMatchObject({ minimum: 1, maximum: 200, default: 40 });
    });
  },
);
