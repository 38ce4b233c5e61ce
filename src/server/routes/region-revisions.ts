/**
 * Region edits that cannot be lost or cross: `POST /api/annotations/:id/revisions` saves a new version of an
 * annotation only when the edit was made on the version the server holds (`baseVersion`; the first versioned
 * save of a region starts from 0), and answers the new version. A save made on an older version is refused with
 * 409 naming both versions, so a client that sends edits one after the other (each on the version the last
 * answer gave) always ends where its last edit put the region, and an edit made elsewhere is detected instead of
 * silently overwritten. A locked region (imported expert regions are) refuses a new shape or label with 423
 * until a revision unlocks it (`locked: false`, which may come with the edit). The version and the lock are kept
 * in the annotation as `artprobe:version` and `artprobe:locked`.
 *
 * @example
 * POST /api/annotations/<uuid>/revisions { "baseVersion": 3, "annotation": { "type": "Annotation", … } }
 * -> 200 { id, version: 4, locked: false, annotation }
 */
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import { REGION_PROPS, REGION_REVISION, REGION_REVISION_RESULT } from '../schemas/collections.ts';
import { UUID_PARAMS, withErrors } from '../schemas.ts';
import { annotationPage, annotationRegion } from './annotations.ts';
import { mirrorAnnotations } from './collection-import.ts';
import { requirePainting } from './paintings.ts';

/**
 * The version of a stored annotation document (0 when it was never saved with one).
 *
 * @example
 * regionVersion({ 'artprobe:version': 3 }); // 3
 */
export function regionVersion(doc: Record<string, unknown>): number {
  const v = doc[REGION_PROPS.version];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

export function registerRegionRevisionRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  app.post(
    '/api/annotations/:id/revisions',
    {
      schema: {
        summary:
          'save a new version of a region (refused with 409 when it changed since baseVersion, 423 when locked)',
        tags: ['annotations'],
        params: UUID_PARAMS,
        body: REGION_REVISION,
        response: withErrors({ 200: REGION_REVISION_RESULT }, 404, 409, 423),
      },
    },
    async (req) => {
      const { id } = req.params;
      const { baseVersion, annotation, locked } = req.body;
      // read, check and write in one synchronous stretch: no other request can slip in between
      const a = ws.getAnnotation(id);
      if (!a) throw new HttpError(404, `annotation ${id} not found`);
      const current = regionVersion(a.doc);
      const wasLocked = a.doc[REGION_PROPS.locked] === true;
      if (baseVersion !== current)
        throw new HttpError(
          409,
          `region ${id} was changed elsewhere: the server has version ${current}, this edit was made on version ${baseVersion}; reload it`,
          { 'x-artprobe-version': String(current) },
        );
      const nowLocked = locked ?? wasLocked;
      if (annotation && wasLocked && locked !== false)
        throw new HttpError(423, `region ${id} is locked (an imported expert region); unlock it to edit it`);
      const p = requirePainting(ws, a.paintingId);
      let doc: Record<string, unknown>;
      if (annotation) {
        doc = { ...annotation };
        for (const k of ['id', '@id', 'created', 'modified']) delete doc[k];
        annotationRegion(doc, p); // 400 naming the problem
        if (a.doc[REGION_PROPS.origin] !== undefined) doc[REGION_PROPS.origin] = a.doc[REGION_PROPS.origin];
      } else doc = { ...a.doc };
      doc[REGION_PROPS.locked] = nowLocked;
      doc[REGION_PROPS.version] = current + 1;
      ws.updateAnnotation(id, doc);
      await mirrorAnnotations(ws, p.id);
      const saved = annotationPage(ws, p.id).items.find((x) => x.id === `urn:uuid:${id}`);
      if (!saved) throw new HttpError(404, `annotation ${id} was deleted meanwhile`);
      return { id, version: current + 1, locked: nowLocked, annotation: saved };
    },
  );
}
