/**
 * Loads expert regions from a file in any supported format, detected from the content unless given:
 * W3C Web Annotation (JSON / JSON-LD), COCO, LabelMe or VIA.
 *
 * @example
 * const { regions, warnings, format } = await loadRegionsFile('../shared/paintings/annotations.jsonld');
 */
import { readFile } from 'node:fs/promises';
import { readCocoAnnotations } from './coco.ts';
import { readLabelMe } from './labelme.ts';
import type { ImageSize, RegionLoadResult } from './region.ts';
import { readVia } from './via.ts';
import { readW3CAnnotations } from './w3c.ts';

export const REGION_FORMATS = ['w3c', 'coco', 'labelme', 'via'] as const;
export type RegionFormat = (typeof REGION_FORMATS)[number];

/**
 * Guesses the annotation format of a parsed document.
 *
 * @example
 * detectRegionFormat({ shapes: [], imagePath: 'a.jpg' }); // 'labelme'
 */
export function detectRegionFormat(doc: unknown): RegionFormat {
  const o = (Array.isArray(doc) ? doc[0] : doc) as Record<string, unknown> | undefined;
  if (!o || typeof o !== 'object') throw new Error('annotation document is empty or not JSON');
  const type = JSON.stringify(o.type ?? o['@type'] ?? '');
  if (o['@context'] !== undefined || /Annotation/.test(type)) return 'w3c';
  if (Array.isArray(o.annotations) && Array.isArray(o.images)) return 'coco';
  if (Array.isArray(o.shapes) && 'imagePath' in o) return 'labelme';
  const first = (o._via_img_metadata ?? o) as Record<string, unknown>;
  const v = Object.values(first)[0] as Record<string, unknown> | undefined;
  if (Array.isArray(doc) ? 'filename' in o : v && typeof v === 'object' && 'filename' in v) return 'via';
  throw new Error('cannot tell the annotation format (not W3C, COCO, LabelMe or VIA); pass it explicitly');
}

/**
 * Reads and parses a regions file. Per-annotation problems are warnings; an unreadable file is an Error.
 *
 * @example
 * const { regions } = await loadRegionsFile('via.json', { format: 'via', imageSizes: { 'a.jpg': { width: 640, height: 480 } } });
 */
export async function loadRegionsFile(
  path: string,
  opts: { format?: RegionFormat; imageSizes?: Record<string, ImageSize> } = {},
): Promise<RegionLoadResult & { format: RegionFormat }> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read annotations (${(e as Error).message})`);
  }
  if (opts.format !== undefined && !REGION_FORMATS.includes(opts.format))
    throw new Error(`unknown annotation format "${opts.format}" (known: ${REGION_FORMATS.join(', ')})`);
  let format: RegionFormat;
  try {
    format = opts.format ?? detectRegionFormat(doc);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  try {
    const read =
      format === 'w3c'
        ? readW3CAnnotations(doc, { imageSizes: opts.imageSizes })
        : format === 'coco'
          ? readCocoAnnotations(doc)
          : format === 'labelme'
            ? readLabelMe(doc)
            : readVia(doc, { imageSizes: opts.imageSizes });
    return { ...read, format };
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
