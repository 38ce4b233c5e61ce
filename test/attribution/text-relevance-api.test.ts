/**
 * `POST /api/paintings/:id/text-relevance` through app.inject with the toy model: each prompt's tokens as strings
 * with shares summing to 1 and the prompt's logit, equal to the library's result; bad requests and an unknown
 * painting are refused; the route is in the OpenAPI document.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { explainTextRelevance } from '../../src/attribution/text-relevance.ts';
import { loadClip } from '../../src/core/clip.ts';
import { buildApp } from '../../src/server/app.ts';
import { describeShared, sharedPath } from '../helpers/shared-data.ts';
import { maxAbsDiff, useWasm } from '../helpers/tensors.ts';
import { multipart } from '../server/helpers.ts';

describeShared('text relevance over the API', ['toy/A/model', 'toy/A/eval/images'], () => {
  let app: FastifyInstance;
  let dir: string;
  let pid = '';
  const file = sharedPath('toy/A/eval/images/img_003.png');
  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, payload: payload as object });

  beforeAll(async () => {
    await useWasm();
    dir = mkdtempSync(join(tmpdir(), 'artprobe-text-relevance-api-'));
    app = await buildApp({
      workspace: join(dir, 'ws'),
      model: sharedPath('toy/A/model'),
      uiDir: join(dir, 'no-ui'),
      modelsDir: join(dir, 'models'),
    });
    await app.artprobe.modelReady;
    const up = await app.inject({
      method: 'POST',
      url: '/api/paintings',
      ...multipart([{ name: 'file', filename: 'a.png', content: readFileSync(file) }]),
    });
    expect(up.statusCode).toBe(201);
    pid = up.json().id;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the tokens of each prompt with their shares, as the library computes them', async () => {
    const r = await post(`/api/paintings/${pid}/text-relevance`, {
      prompts: ['a red circle', 'a blue square'],
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ paintingId: pid, view: 'crop', model: { id: 'model' } });
    expect(body.results.map((x: { tokens: { token: string }[] }) => x.tokens.map((t) => t.token))).toEqual([
      ['a', 'red', 'circle'],
      ['a', 'blue', 'square'],
    ]);
    const clip = await loadClip(sharedPath('toy/A/model'));
    try {
      const lib = await explainTextRelevance(clip, {
        image: file,
        prompts: ['a red circle', 'a blue square'],
      });
      expect(body.startLayer).toBe(clip.config.text.layers - 1);
      lib.forEach((l, i) => {
        const got = body.results[i];
        expect(got.truncated).toBe(false);
        expect(got.score).toBeCloseTo(l.score, 3);
        expect(
          maxAbsDiff(
            got.tokens.map((t: { value: number }) => t.value),
            l.tokens.map((t) => t.value),
          ),
        ).toBeLessThan(1e-5);
      });
    } finally {
      clip.dispose();
    }
    const all = await post(`/api/paintings/${pid}/text-relevance`, {
      prompts: ['a red circle'],
      startLayer: 0,
      view: 'pad',
    });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ view: 'pad', startLayer: 0 });
  });

  it('refuses bad requests and unknown paintings; the route is documented', async () => {
    const url = `/api/paintings/${pid}/text-relevance`;
    expect((await post(url, {})).statusCode).toBe(400);
    expect((await post(url, { prompts: [] })).statusCode).toBe(400);
    expect((await post(url, { prompts: [''] })).statusCode).toBe(400);
    expect((await post(url, { prompts: ['a'], view: 'zoom' })).statusCode).toBe(400);
    expect((await post(url, { prompts: ['a'], extra: 1 })).statusCode).toBe(400);
    expect((await post(url, { prompts: ['a'], startLayer: 50 })).statusCode).toBe(400);
    expect(
      (await post(`/api/paintings/${'0'.repeat(64)}/text-relevance`, { prompts: ['a'] })).statusCode,
    ).toBe(404);
    const doc = (await app.inject('/api/openapi.json')).json();
    expect(Object.keys(doc.paths)).toContain('/api/paintings/{id}/text-relevance');
  });
});
