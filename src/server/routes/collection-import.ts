/**
 * Bringing a collection in: `POST /api/catalogs/preview` tells what a catalog (CSV, JSON or parquet) would match
 * without storing it (then `POST /api/catalogs` imports it), and `POST /api/annotations/import` reads an
 * expert-region file in any supported format (W3C Web Annotation, COCO, LabelMe, VIA; detected by content) and
 * adds each region to the painting its source names (matched by file name against the painting's name or its
 * catalog `file`), as a W3C annotation that remembers where it came from. With `dryRun=true` it only reports
 * what would match. Regions already imported from the same file (same original id) are skipped, so importing
 * twice is harmless; imported regions are locked unless `lock=false` (an expert's region is not moved by
 * accident: unlock it through `POST /api/annotations/:id/revisions`).
 *
 * @example
 * POST /api/annotations/import?dryRun=true (multipart, field "file": annotations.jsonld)
 * -> { format: 'w3c', regions: 72, imported: 72, matched: [{ name: 'hokusai….jpg', regions: 4 }], unmatched: [] }
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readCocoAnnotations } from '../../regions/coco.ts';
import { readLabelMe } from '../../regions/labelme.ts';
import { detectRegionFormat, type RegionFormat } from '../../regions/load.ts';
import type { Region, RegionLoadResult } from '../../regions/region.ts';
import { readVia } from '../../regions/via.ts';
import { readW3CAnnotations, writeW3CAnnotations } from '../../regions/w3c.ts';
import type { AppContext, ArtprobeApp } from '../app.ts';
import { HttpError } from '../jobs.ts';
import {
  CATALOG_PREVIEW,
  type CatalogPreview,
  REGION_PROPS,
  REGIONS_IMPORT_QUERY,
  REGIONS_IMPORT_RESULT,
  type RegionsImportResult,
} from '../schemas/collections.ts';
import { withErrors } from '../schemas.ts';
import { readUpload } from '../upload.ts';
import { type PaintingRow, type Workspace, writeFileAtomic } from '../workspace.ts';
import { annotationPage, annotationRegion } from './annotations.ts';
import { parseCatalog } from './catalogs.ts';
import { cleanName } from './paintings.ts';

/** Catalog columns that name a painting's file (as the catalog import matches them). */
const KEY_COLUMNS = ['file', 'filename', 'image', 'name'];

/** The last path segment of a source (file name, URL or IIIF canvas), without query or fragment. */
export function sourceName(source: string): string {
  const noFrag = source.split('#')[0].split('?')[0];
  const last = noFrag.split(/[\\/]/).filter(Boolean).pop() ?? noFrag;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * Paintings by every name a region file or a catalog may use for them: the stored name and the catalog's
 * `file` (or `filename`, `image`).
 *
 * @example
 * paintingsByName(ws).get('hokusai-great-wave-off-kanagawa-c1831.jpg')?.id;
 */
export function paintingsByName(ws: Workspace): Map<string, PaintingRow> {
  const out = new Map<string, PaintingRow>();
  for (const p of ws.listPaintings()) {
    out.set(p.name, p);
    for (const k of KEY_COLUMNS.slice(0, 3)) {
      const v = p.metadata?.[k];
      if (typeof v === 'string' && !out.has(sourceName(v))) out.set(sourceName(v), p);
    }
  }
  return out;
}

/** Mirror writes in flight, per workspace and painting (chained, so the last write is the newest state). */
const mirrors = new WeakMap<Workspace, Map<string, Promise<void>>>();

/**
 * Writes the painting's annotations file (`annotations/<id>.jsonld`), as the annotation routes do. Writes of one
 * painting are chained and each reads the database when its turn comes, so quick edits never leave an older
 * page on disk.
 *
 * @example
 * await mirrorAnnotations(ws, paintingId);
 */
export function mirrorAnnotations(ws: Workspace, paintingId: string): Promise<void> {
  const chains = mirrors.get(ws) ?? new Map<string, Promise<void>>();
  mirrors.set(ws, chains);
  const prev = chains.get(paintingId) ?? Promise.resolve();
  const next = prev
    .catch(() => undefined)
    .then(() =>
      writeFileAtomic(
        join(ws.dir('annotations'), `${paintingId}.jsonld`),
        `${JSON.stringify(annotationPage(ws, paintingId), null, 2)}\n`,
      ),
    );
  chains.set(paintingId, next);
  const done = () => {
    if (chains.get(paintingId) === next) chains.delete(paintingId);
  };
  next.then(done, done);
  return next;
}

const titleOf = (p: PaintingRow): string | null =>
  typeof p.metadata?.title === 'string' ? (p.metadata.title as string) : null;

/** Reads a region document in a format, with the paintings' sizes for formats that need them. */
function readRegions(
  doc: unknown,
  format: RegionFormat,
  sizes: Record<string, { width: number; height: number }>,
) {
  const read = (): RegionLoadResult =>
    format === 'w3c'
      ? readW3CAnnotations(doc, { imageSizes: sizes })
      : format === 'coco'
        ? readCocoAnnotations(doc)
        : format === 'labelme'
          ? readLabelMe(doc)
          : readVia(doc, { imageSizes: sizes });
  try {
    return read();
  } catch (e) {
    throw new HttpError(400, `cannot read the ${format} annotations: ${(e as Error).message}`);
  }
}

/** The W3C annotation stored for an imported region (the original one for W3C input). */
function importedDoc(r: Region, p: PaintingRow, format: RegionFormat, file: string, lock: boolean) {
  const original = r.original as Record<string, unknown> | undefined;
  const types = original ? ([] as unknown[]).concat(original.type ?? [], original['@type'] ?? []) : [];
  let doc: Record<string, unknown>;
  if (format === 'w3c' && original && types.includes('Annotation')) doc = structuredClone(original);
  else {
    doc = writeW3CAnnotations([{ ...r, source: p.name }]).first.items[0];
    delete doc.id;
  }
  for (const k of ['id', '@id', 'created', 'modified']) delete doc[k];
  doc[REGION_PROPS.origin] = { format, file, id: r.id };
  doc[REGION_PROPS.locked] = lock;
  doc[REGION_PROPS.version] = 1;
  return doc;
}

export function registerCollectionImportRoutes(app: ArtprobeApp, ctx: AppContext): void {
  const { ws } = ctx;
  app.post(
    '/api/catalogs/preview',
    {
      schema: {
        summary:
          'what a catalog (CSV, JSON or parquet; multipart field "file") would match; nothing is stored',
        tags: ['catalogs'],
        consumes: ['multipart/form-data'],
        response: withErrors({ 200: CATALOG_PREVIEW }, 413, 415),
      },
    },
    async (req): Promise<CatalogPreview> => {
      const { bytes, filename } = await readUpload(req, 'catalog');
      const file = cleanName(filename, 'catalog');
      const { format, rows } = await parseCatalog(bytes, file);
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const keyColumn = KEY_COLUMNS.find((k) => columns.includes(k)) ?? null;
      const byName = new Map(ws.listPaintings().map((p) => [p.name, p]));
      const matched: CatalogPreview['matched'] = [];
      const unmatchedRows: string[] = [];
      const seen = new Set<string>();
      for (const r of rows) {
        const key = KEY_COLUMNS.map((k) => r[k]).find((v) => typeof v === 'string' && byName.has(v)) as
          | string
          | undefined;
        const p = key ? byName.get(key) : undefined;
        if (p) {
          if (!seen.has(p.id))
            matched.push({
              paintingId: p.id,
              name: p.name,
              title: typeof r.title === 'string' ? r.title : null,
            });
          seen.add(p.id);
        } else unmatchedRows.push(String((keyColumn && r[keyColumn]) ?? JSON.stringify(r).slice(0, 60)));
      }
      return {
        file,
        format,
        rows: rows.length,
        columns,
        keyColumn,
        matched,
        unmatchedRows: unmatchedRows.slice(0, 1000),
        paintingsWithoutRow: ws
          .listPaintings()
          .filter((p) => !seen.has(p.id))
          .map((p) => p.name),
      };
    },
  );

  app.post(
    '/api/annotations/import',
    {
      schema: {
        summary:
          'import expert regions (W3C, COCO, LabelMe or VIA JSON; multipart field "file"), matched to paintings by file name',
        tags: ['annotations'],
        consumes: ['multipart/form-data'],
        querystring: REGIONS_IMPORT_QUERY,
        response: withErrors({ 200: REGIONS_IMPORT_RESULT, 201: REGIONS_IMPORT_RESULT }, 413, 415),
      },
    },
    async (req, reply): Promise<RegionsImportResult> => {
      const { dryRun = false, lock = true } = req.query;
      const { bytes, filename } = await readUpload(req, 'annotations');
      const file = cleanName(filename, 'annotations');
      let doc: unknown;
      try {
        doc = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
      } catch (e) {
        throw new HttpError(400, `${file}: not valid JSON (${(e as Error).message})`);
      }
      let format: RegionFormat;
      try {
        format = req.query.format ?? detectRegionFormat(doc);
      } catch (e) {
        throw new HttpError(400, `${file}: ${(e as Error).message}`);
      }
      const byName = paintingsByName(ws);
      const sizes: Record<string, { width: number; height: number }> = {};
      const read0 = readRegions(doc, format, {});
      // sizes of the paintings the regions name, by the exact source strings the file uses
      for (const r of read0.regions) {
        const p = byName.get(sourceName(r.source));
        if (p) sizes[r.source] = { width: p.width, height: p.height };
      }
      const read = Object.keys(sizes).length ? readRegions(doc, format, sizes) : read0;
      const warnings = read.warnings.map((w) => w.message);
      const unmatched = new Map<string, number>();
      const matched = new Map<string, { p: PaintingRow; regions: number; dimensions: Set<string> }>();
      const existing = new Map<string, Set<string>>();
      const toInsert: { p: PaintingRow; doc: Record<string, unknown> }[] = [];
      let duplicates = 0;
      for (const r of read.regions) {
        const p = byName.get(sourceName(r.source));
        if (!p) {
          unmatched.set(r.source, (unmatched.get(r.source) ?? 0) + 1);
          continue;
        }
        if (!existing.has(p.id))
          existing.set(
            p.id,
            new Set(
              ws.listAnnotations(p.id).flatMap((a) => {
                const o = a.doc[REGION_PROPS.origin] as { id?: unknown; file?: unknown } | undefined;
                return typeof o?.id === 'string' ? [`${o.file}\u0000${o.id}`] : [];
              }),
            ),
          );
        const seen = existing.get(p.id) as Set<string>;
        if (seen.has(`${file}\u0000${r.id}`)) {
          duplicates++;
          continue;
        }
        const d = importedDoc(r, p, format, file, lock);
        try {
          annotationRegion(d, p);
        } catch (e) {
          warnings.push(`${r.id} (${sourceName(r.source)}): ${(e as Error).message}`);
          continue;
        }
        seen.add(`${file}\u0000${r.id}`);
        toInsert.push({ p, doc: d });
        const m = matched.get(p.id) ?? { p, regions: 0, dimensions: new Set<string>() };
        m.regions++;
        if (r.dimension) m.dimensions.add(r.dimension);
        matched.set(p.id, m);
      }
      if (!dryRun && toInsert.length) {
        ws.db.transaction(() => {
          for (const t of toInsert) ws.insertAnnotation(randomUUID(), t.p.id, t.doc);
        })();
        for (const id of matched.keys()) await mirrorAnnotations(ws, id);
      }
      reply.code(dryRun || !toInsert.length ? 200 : 201);
      return {
        dryRun,
        file,
        format,
        regions: read.regions.length,
        imported: toInsert.length,
        duplicates,
        matched: [...matched.values()].map((m) => ({
          paintingId: m.p.id,
          name: m.p.name,
          title: titleOf(m.p),
          regions: m.regions,
          dimensions: [...m.dimensions].sort(),
        })),
        unmatched: [...unmatched].map(([source, regions]) => ({ source, regions })),
        warnings: warnings.slice(0, 200),
      };
    },
  );
}
