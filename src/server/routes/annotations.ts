/**
 * W3C Web Annotations on a painting (create, list as an AnnotationPage, get, replace, delete). Each
 * annotation is checked with the region reader (it must give exactly one region, no warnings); the server
 * assigns its id (`urn:uuid:<uuid>`) and keeps `created`/`modified`. After each change the painting's
 * annotations are also written to `annotations/<paintingId>.jsonld` (atomically). A locked region (imported
 * expert regions are) can be neither replaced nor deleted here (423 naming the lock) until a revision unlocks it
 * (`./region-revisions.ts`); a replace keeps the region's lock and origin and raises its version.
 *
 * @example
 * POST /api/paintings/<id>/annotations { "type": "Annotation", "body": [...], "target": { "source": "x.jpg", "selector": {...} } }
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Region } from '../../regions/region.ts';
import { readW3CAnnotations } from '../../regions/w3c.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { REGION_PROPS } from '../schemas/region-props.ts';
import {
  ANNOTATION,
  ANNOTATION_INPUT,
  ANNOTATION_PAGE,
  type Annotation,
  type AnnotationPage,
  OK,
  PAINTING_PARAMS,
  UUID_PARAMS,
  withErrors,
} from '../schemas.ts';
import { type AnnotationRow, type PaintingRow, type Workspace, writeFileAtomic } from '../workspace.ts';
import { requirePainting } from './paintings.ts';

/** Reads one W3C annotation as a region at the painting's size; 400 naming the problem otherwise. */
export function annotationRegion(doc: Record<string, unknown>, p: PaintingRow): Region {
  const types = ([] as unknown[]).concat(doc.type ?? [], doc['@type'] ?? []);
  if (!types.includes('Annotation')) throw new HttpError(400, 'annotation: "type" must be "Annotation"');
  const first = readW3CAnnotations(doc);
  const sources = [...new Set(first.regions.map((r) => r.source))];
  const sized = readW3CAnnotations(doc, {
    imageSizes: Object.fromEntries(sources.map((s) => [s, { width: p.width, height: p.height }])),
  });
  if (sized.warnings.length) throw new HttpError(400, sized.warnings.map((w) => w.message).join('; '));
  if (sized.regions.length !== 1)
    throw new HttpError(
      400,
      `annotation: expected one annotation with a region, got ${sized.regions.length}`,
    );
  return sized.regions[0];
}

function present(a: AnnotationRow): Annotation {
  return {
    '@context': 'http://www.w3.org/ns/anno.jsonld',
    ...a.doc,
    id: `urn:uuid:${a.id}`,
    type: 'Annotation',
    created: a.createdAt,
    modified: a.modifiedAt,
  };
}

/** The painting's annotations as an AnnotationPage. */
export function annotationPage(ws: Workspace, paintingId: string): AnnotationPage {
  const items = ws.listAnnotations(paintingId).map(present);
  return {
    '@context': 'http://www.w3.org/ns/anno.jsonld',
    id: `urn:artprobe:painting:${paintingId}:annotations`,
    type: 'AnnotationPage',
    startIndex: 0,
    items,
  };
}

async function mirror(ws: Workspace, paintingId: string): Promise<void> {
  await writeFileAtomic(
    join(ws.dir('annotations'), `${paintingId}.jsonld`),
    `${JSON.stringify(annotationPage(ws, paintingId), null, 2)}\n`,
  );
}

function requireAnnotation(ws: Workspace, id: string): AnnotationRow {
  const a = ws.getAnnotation(id);
  if (!a) throw new HttpError(404, `annotation ${id} not found`);
  return a;
}

/**
 * Refuses (423) any change to a locked region: imported expert regions are locked, and only a revision that
 * unlocks them (`POST /api/annotations/:id/revisions` with `locked: false`) lets them be edited or deleted.
 */
export function refuseLocked(a: AnnotationRow, action: string): void {
  if (a.doc[REGION_PROPS.locked] !== true) return;
  const origin = a.doc[REGION_PROPS.origin] as { file?: unknown } | undefined;
  const from = typeof origin?.file === 'string' ? ` imported from ${origin.file}` : '';
  throw new HttpError(
    423,
    `region ${a.id} is locked (an expert region${from}): it cannot be ${action}; unlock it first with POST /api/annotations/${a.id}/revisions {"baseVersion": ${regionVersionOf(a.doc)}, "locked": false}`,
  );
}

/** The version kept in an annotation document (0 when none). */
function regionVersionOf(doc: Record<string, unknown>): number {
  const v = doc[REGION_PROPS.version];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

function cleanDoc(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const doc = { ...body };
  for (const k of ['id', '@id', 'created', 'modified']) delete doc[k];
  return doc;
}

export function registerAnnotationRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  const tags = ['annotations'];
  app.get(
    '/api/paintings/:id/annotations',
    {
      schema: {
        summary: "a painting's annotations (W3C AnnotationPage)",
        tags,
        params: PAINTING_PARAMS,
        response: withErrors({ 200: ANNOTATION_PAGE }, 404),
      },
    },
    async (req) => {
      const { id } = req.params;
      requirePainting(ws, id);
      return annotationPage(ws, id);
    },
  );
  app.post(
    '/api/paintings/:id/annotations',
    {
      schema: {
        summary: 'add a W3C Web Annotation (one region) to a painting',
        tags,
        params: PAINTING_PARAMS,
        body: ANNOTATION_INPUT,
        response: withErrors({ 201: ANNOTATION }, 404),
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const p = requirePainting(ws, id);
      const doc = cleanDoc(req.body);
      annotationRegion(doc, p);
      const row = ws.insertAnnotation(randomUUID(), p.id, doc);
      await mirror(ws, p.id);
      reply.code(201);
      return present(row);
    },
  );
  app.get(
    '/api/annotations/:id',
    {
      schema: {
        summary: 'one annotation',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: ANNOTATION }, 404),
      },
    },
    async (req) => present(requireAnnotation(ws, req.params.id)),
  );
  app.put(
    '/api/annotations/:id',
    {
      schema: {
        summary:
          'replace an annotation (423 when the region is locked; its version is raised, its lock and origin kept)',
        tags,
        params: UUID_PARAMS,
        body: ANNOTATION_INPUT,
        response: withErrors({ 200: ANNOTATION }, 404, 423),
      },
    },
    async (req) => {
      const { id } = req.params;
      const a = requireAnnotation(ws, id);
      refuseLocked(a, 'replaced');
      const doc = cleanDoc(req.body);
      annotationRegion(doc, requirePainting(ws, a.paintingId));
      // the lock and the version are the server's: a replace is a new version (a versioned editor sees 409)
      for (const k of [REGION_PROPS.locked, REGION_PROPS.version, REGION_PROPS.origin]) delete doc[k];
      if (a.doc[REGION_PROPS.origin] !== undefined) doc[REGION_PROPS.origin] = a.doc[REGION_PROPS.origin];
      if (a.doc[REGION_PROPS.locked] !== undefined) doc[REGION_PROPS.locked] = a.doc[REGION_PROPS.locked];
      if (a.doc[REGION_PROPS.version] !== undefined) doc[REGION_PROPS.version] = regionVersionOf(a.doc) + 1;
      ws.updateAnnotation(id, doc);
      await mirror(ws, a.paintingId);
      return present(requireAnnotation(ws, id));
    },
  );
  app.delete(
    '/api/annotations/:id',
    {
      schema: {
        summary: 'delete an annotation (423 when the region is locked)',
        tags,
        params: UUID_PARAMS,
        response: withErrors({ 200: OK }, 404, 423),
      },
    },
    async (req) => {
      const { id } = req.params;
      const a = requireAnnotation(ws, id);
      refuseLocked(a, 'deleted');
      ws.deleteAnnotation(id);
      await mirror(ws, a.paintingId);
      return { ok: true };
    },
  );
}
