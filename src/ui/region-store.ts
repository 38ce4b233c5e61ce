/**
 * `RegionStore`: the expert regions of one painting as the page edits them, saved without loss. Every change
 * is applied on the page at once and saved in order: one save per region is in flight at a time, made on the
 * version the server last answered (`POST /api/annotations/:id/revisions`), and further changes made meanwhile
 * are sent as one save of the latest state when it returns. So quick edits (twenty arrow presses in 200 ms)
 * end with the server holding exactly what the page shows; a save refused because the region changed elsewhere
 * (409) or is locked (423) reloads the server's version and says so. Changes can be undone and redone (quick
 * moves of one region count as one change); imported expert regions are locked until unlocked.
 *
 * @example
 * const store = new RegionStore(api, painting, () => this.requestUpdate());
 * await store.load();
 * store.edit(id, { geometry: moved });
 * await store.idle(); // every change saved
 */
import type { Geometry } from '../regions/region.ts';
import { writeW3CAnnotations } from '../regions/w3c.ts';
import type { UiRegion } from './ap-heatmap.ts';
import { type Api, ApiError, type Painting, REGION_PROPS, type W3CAnnotation } from './api.ts';
import { paintingRegions } from './report-export.ts';

/** A region with what the store needs to save it. */
export interface StoredRegion extends UiRegion {
  version: number;
  locked: boolean;
  /** Free text of the annotation's describing body. */
  description?: string;
  /** The annotation as the server last answered it (extra properties are kept on save). */
  doc: Record<string, unknown>;
}

/** The editable part of a region. */
export type RegionPatch = Partial<Pick<UiRegion, 'geometry' | 'label' | 'dimension'>>;

interface Change {
  id: string;
  before: RegionPatch;
  after: RegionPatch;
  at: number;
  kind: string;
}

/**
 * The W3C annotation of a region (one TextualBody per purpose, one selector), keeping the other properties of
 * the stored document (motivation, creator, where it was imported from).
 *
 * @example
 * regionDoc(painting, { label: 'wave', dimension: 'content', geometry }, storedDoc);
 */
export function regionDoc(
  p: Pick<Painting, 'name' | 'width' | 'height'>,
  r: { label: string; dimension?: string; description?: string; geometry: Geometry },
  base: Record<string, unknown> = {},
): W3CAnnotation {
  const fresh = writeW3CAnnotations([
    {
      id: 'new',
      label: r.label,
      dimension: (r.dimension || undefined) as never,
      description: r.description,
      source: p.name,
      geometry: r.geometry,
      imageSize: { width: p.width, height: p.height },
    },
  ]).first.items[0] as Record<string, unknown>;
  const doc: Record<string, unknown> = { ...base, ...fresh };
  for (const k of ['id', '@id', 'created', 'modified']) delete doc[k];
  return doc as W3CAnnotation;
}

export class RegionStore {
  regions: StoredRegion[] = [];
  /** What the last save did ('' when nothing to say). */
  status = '';
  private queues = new Map<string, { dirty: boolean; running: boolean }>();
  private waiters: (() => void)[] = [];
  private undos: Change[] = [];
  private redos: Change[] = [];

  constructor(
    private readonly api: Api,
    private readonly painting: Painting,
    private readonly onChange: () => void,
  ) {}

  get canUndo(): boolean {
    return this.undos.length > 0;
  }
  get canRedo(): boolean {
    return this.redos.length > 0;
  }
  /** Saves in flight or waiting. */
  get saving(): boolean {
    return [...this.queues.values()].some((q) => q.dirty || q.running);
  }

  get(id: string): StoredRegion | undefined {
    return this.regions.find((r) => r.id === id);
  }

  /** Reads the painting's regions from the server (pending saves are waited for first). */
  async load(): Promise<void> {
    await this.idle();
    this.regions = (await paintingRegions(this.api, this.painting)).map((r) => this.fromServer(r, r.doc));
    this.onChange();
  }

  private fromServer(
    r: UiRegion & { description?: string },
    doc: Record<string, unknown> = {},
  ): StoredRegion {
    const v = doc[REGION_PROPS.version];
    return {
      ...r,
      version: typeof v === 'number' ? v : 0,
      locked: doc[REGION_PROPS.locked] === true,
      doc,
    };
  }

  private set(id: string, patch: Partial<StoredRegion>): void {
    this.regions = this.regions.map((r) => (r.id === id ? { ...r, ...patch } : r));
    this.onChange();
  }

  /**
   * Changes a region on the page and saves it (in order); false when it is locked.
   *
   * @example
   * store.edit(id, { label: 'the wave' });
   */
  edit(id: string, patch: RegionPatch, opts: { record?: boolean; kind?: string } = {}): boolean {
    const r = this.get(id);
    if (!r) return false;
    if (r.locked) {
      this.status = `“${r.label}” is locked (an imported expert region): unlock it in the region list to edit it.`;
      this.onChange();
      return false;
    }
    const before: RegionPatch = {};
    for (const k of Object.keys(patch) as (keyof RegionPatch)[])
      (before as Record<string, unknown>)[k] = r[k];
    if (opts.record !== false) {
      const kind = opts.kind ?? Object.keys(patch).sort().join(',');
      const last = this.undos[this.undos.length - 1];
      const now = Date.now();
      // quick changes of the same kind to one region (arrow presses) are one change
      if (last && last.id === id && last.kind === kind && now - last.at < 1000) {
        last.after = { ...last.after, ...patch };
        last.at = now;
      } else this.undos.push({ id, before, after: { ...patch }, at: now, kind });
      this.redos = [];
    }
    this.set(id, patch);
    this.save(id);
    return true;
  }

  /** Undoes the last change (saved like any change). */
  undo(): void {
    const c = this.undos.pop();
    if (!c) return;
    if (this.edit(c.id, c.before, { record: false })) this.redos.push(c);
    else this.undos.push(c);
    this.onChange();
  }

  redo(): void {
    const c = this.redos.pop();
    if (!c) return;
    if (this.edit(c.id, c.after, { record: false })) this.undos.push(c);
    else this.redos.push(c);
    this.onChange();
  }

  /** Locks or unlocks a region (after the pending saves of it). */
  async setLocked(id: string, locked: boolean): Promise<void> {
    await this.idle();
    const r = this.get(id);
    if (!r) return;
    try {
      const res = await this.api.saveRegion(id, { baseVersion: r.version, locked });
      this.set(id, { locked: res.locked, version: res.version, doc: res.annotation });
      this.status = `${res.locked ? 'Locked' : 'Unlocked'} “${r.label}”.`;
    } catch (e) {
      await this.conflict(id, e as Error);
    }
    this.onChange();
  }

  /** Adds a region (saved at once); resolves with its id. */
  async add(r: { label: string; dimension?: string; geometry: Geometry }): Promise<string> {
    const a = await this.api.addAnnotation(this.painting.id, regionDoc(this.painting, r));
    const id = String(a.id).replace(/^urn:uuid:/, '');
    this.regions = [...this.regions, { id, ...r, version: 0, locked: false, doc: a }];
    this.status = `Saved region “${r.label}”.`;
    this.onChange();
    return id;
  }

  /** Deletes a region; false when it is locked. */
  async remove(id: string): Promise<boolean> {
    const r = this.get(id);
    if (!r) return false;
    if (r.locked) {
      this.status = `“${r.label}” is locked: unlock it before deleting it.`;
      this.onChange();
      return false;
    }
    await this.idle();
    await this.api.deleteAnnotation(id);
    this.regions = this.regions.filter((x) => x.id !== id);
    this.undos = this.undos.filter((c) => c.id !== id);
    this.redos = this.redos.filter((c) => c.id !== id);
    this.status = `Deleted region “${r.label}”.`;
    this.onChange();
    return true;
  }

  /** Resolves when every change has been saved (or refused). */
  idle(): Promise<void> {
    if (!this.saving) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** Marks a region to save and starts its queue when none is in flight. */
  private save(id: string): void {
    const q = this.queues.get(id) ?? { dirty: false, running: false };
    this.queues.set(id, q);
    q.dirty = true;
    if (!q.running) void this.pump(id, q);
  }

  private async pump(id: string, q: { dirty: boolean; running: boolean }): Promise<void> {
    q.running = true;
    this.status = 'Saving…';
    while (q.dirty) {
      q.dirty = false;
      const r = this.get(id);
      if (!r) break;
      try {
        const res = await this.api.saveRegion(id, {
          baseVersion: r.version,
          annotation: regionDoc(this.painting, r, r.doc),
        });
        // the page keeps its own (possibly newer) shape; only the version and document move on
        const now = this.get(id);
        if (now) {
          now.version = res.version;
          now.doc = res.annotation;
        }
        this.status = 'All changes saved.';
      } catch (e) {
        q.dirty = false;
        await this.conflict(id, e as Error);
      }
    }
    q.running = false;
    this.queues.delete(id);
    this.onChange();
    if (!this.saving) for (const w of this.waiters.splice(0)) w();
  }

  /** A refused save: the server's version replaces the page's, and the page says why. */
  private async conflict(id: string, e: Error): Promise<void> {
    const status = e instanceof ApiError ? e.status : 0;
    if (status !== 409 && status !== 423) {
      this.status = `Cannot save the region: ${e.message}`;
      return;
    }
    try {
      const fresh = (await paintingRegions(this.api, this.painting)).find((x) => x.id === id);
      if (fresh) {
        const r = this.fromServer(fresh, fresh.doc);
        this.regions = this.regions.map((x) => (x.id === id ? r : x));
      }
    } catch {
      /* gone meanwhile */
    }
    this.undos = this.undos.filter((c) => c.id !== id);
    this.redos = this.redos.filter((c) => c.id !== id);
    this.status =
      status === 409
        ? 'This region was changed elsewhere (another tab or person): the page now shows the saved version; make your change again.'
        : 'This region is locked on the server: the page now shows the saved version.';
  }
}
