/**
 * A small typed client of the artprobe server API (`/api/...`): paintings (list, upload, import by URL),
 * explanation jobs (create, poll, maps), zero-shot probes and suites, embedding tables and maps, W3C
 * annotations, region metrics, catalogs, health.
 * Errors are thrown as `ApiError` with the server's message.
 *
 * @example
 * const api = new Api('');
 * const p = await api.upload(file);
 * const job = await api.createJob({ paintingId: p.id, method: 'chefer-all', target: { kind: 'prompt', prompt: 'a wave' } });
 * const done = await api.waitJob(job.id, (j) => console.log(j.progress));
 * const { shape, data } = await api.paintingMap(done.id);
 */
import { parseNpy } from './npy.ts';

export interface Painting {
  id: string;
  name: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  sourceUrl?: string | null;
  metadata?: Record<string, unknown> | null;
  createdAt?: string;
}

export type Target =
  | { kind: 'prompt'; prompt: string }
  | { kind: 'label'; label: string; labels: string[]; prompts?: string[][] }
  | { kind: 'contrast'; a: string; b: string };

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  state: JobState;
  paintingId: string;
  method: string;
  target: Target;
  view?: string;
  params?: Record<string, unknown>;
  progress?: { done: number; total: number };
  error?: string | null;
  result?: { score: number; signed: boolean; paintingSize: number[]; grid: number[] } | null;
  cached?: boolean;
}

/** One dimension's zero-shot answer (`POST /api/paintings/:id/probe`, `images[0].answers[dimension]`). */
export interface ZeroShotAnswer {
  ranked: { label: string; probability: number; logit: number; prompt: string }[];
  probabilities: number[];
  /** The target that explains the top label; another label: `{ ...explain, label: ranked[i].prompt }`. */
  explain: { kind: 'label'; label: string; labels: string[]; prompts?: string[][] };
}

export interface ProbeResult {
  paintingId: string;
  cached: boolean;
  model: string;
  dimensions: { name: string; suite: string; description?: string }[];
  images: { image: string; answers: Record<string, ZeroShotAnswer> }[];
}

export interface SuiteSummary {
  name: string;
  description?: string;
  origin: 'default' | 'workspace';
  dimensions: string[];
}

export interface EmbeddingTable {
  id: string;
  name: string;
  format: string;
  column: string;
  rows: number;
  dims: number;
  columns: string[];
}

export type MetaValue = string | number | null;

export interface EmbeddingMap {
  source: 'collection' | 'tables';
  method: 'pca' | 'umap';
  model?: string;
  computed?: number;
  explainedVarianceRatio?: number[];
  sets: { name: string; count: number }[];
  fields: { name: string; kind: 'number' | 'text' }[];
  points: {
    x: number;
    y: number;
    set: string;
    id?: string;
    title: string;
    meta: Record<string, MetaValue>;
  }[];
}

export interface MetricRow {
  annotationId: string;
  label: string;
  dimension: string | null;
  area: number;
  pointing: number | null;
  energy: number | null;
  auroc: number | null;
  iouTopK: number | null;
  nss?: number | null;
}

export interface Health {
  ok?: boolean;
  model?: { id: string; state?: string } | null;
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly base = '') {}

  private async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(this.base + path, init);
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try {
        msg = (await res.json()).message ?? msg;
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, msg);
    }
    const type = res.headers.get('content-type') ?? '';
    return (type.includes('json') ? res.json() : res.arrayBuffer()) as Promise<T>;
  }

  private json<T>(path: string, method: string, body: unknown): Promise<T> {
    return this.request<T>(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  health(): Promise<Health> {
    return this.request('/api/health');
  }
  paintings(): Promise<Painting[]> {
    return this.request('/api/paintings');
  }
  painting(id: string): Promise<Painting> {
    return this.request(`/api/paintings/${id}`);
  }
  imageUrl(id: string): string {
    return `${this.base}/api/paintings/${id}/image`;
  }
  /** Uploads an image file (multipart field `file`). */
  upload(file: Blob, name?: string): Promise<Painting> {
    const form = new FormData();
    form.append('file', file, name ?? (file as File).name ?? 'painting');
    return this.request('/api/paintings', { method: 'POST', body: form });
  }
  importUrl(url: string): Promise<Painting> {
    return this.json('/api/paintings/import', 'POST', { url });
  }
  createJob(req: {
    paintingId: string;
    method: string;
    target: Target;
    view?: string;
    params?: Record<string, unknown>;
  }): Promise<Job> {
    return this.json('/api/jobs', 'POST', req);
  }
  job(id: string): Promise<Job> {
    return this.request(`/api/jobs/${id}`);
  }
  jobs(paintingId: string): Promise<Job[]> {
    return this.request(`/api/jobs?paintingId=${paintingId}`);
  }
  /** Polls a job until it ends; `onUpdate` sees each state (for progress bars). */
  async waitJob(id: string, onUpdate?: (j: Job) => void, intervalMs = 250): Promise<Job> {
    for (;;) {
      const j = await this.job(id);
      onUpdate?.(j);
      if (j.state === 'done') return j;
      if (j.state === 'failed' || j.state === 'cancelled')
        throw new ApiError(500, `job ${id} ${j.state}${j.error ? `: ${j.error}` : ''}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  mapUrl(jobId: string, kind: 'raw.npy' | 'painting.npy' | 'overlay.png'): string {
    return `${this.base}/api/jobs/${jobId}/maps/${kind}`;
  }
  /** The job's map in painting pixels ([H, W], NaN outside the view). */
  async paintingMap(jobId: string): Promise<{ shape: number[]; data: Float32Array }> {
    return parseNpy(await this.request<ArrayBuffer>(`/api/jobs/${jobId}/maps/painting.npy`));
  }
  annotations(paintingId: string): Promise<{ items: W3CAnnotation[] }> {
    return this.request(`/api/paintings/${paintingId}/annotations`);
  }
  addAnnotation(paintingId: string, doc: W3CAnnotation): Promise<W3CAnnotation> {
    return this.json(`/api/paintings/${paintingId}/annotations`, 'POST', doc);
  }
  /** `id` is the annotation's uuid (without `urn:uuid:`). */
  updateAnnotation(id: string, doc: W3CAnnotation): Promise<W3CAnnotation> {
    return this.json(`/api/annotations/${id}`, 'PUT', doc);
  }
  deleteAnnotation(id: string): Promise<unknown> {
    return this.request(`/api/annotations/${id}`, { method: 'DELETE' });
  }
  metrics(jobId: string): Promise<{ jobId: string; method: string; rows: MetricRow[] }> {
    return this.json('/api/metrics', 'POST', { jobId });
  }
  /** A probe suite (dimensions with templates and labels). */
  suite(name: string): Promise<{
    name: string;
    dimensions: {
      name: string;
      templates: string[];
      labels: { id: string; text?: string; prompts?: string[] }[];
    }[];
  }> {
    return this.request(`/api/suites/${name}`);
  }
  /** Default and workspace probe suites with their dimension names. */
  suites(): Promise<SuiteSummary[]> {
    return this.request('/api/suites');
  }
  /** Zero-shot answers of a painting for some suites / dimensions (cached by the server). */
  probe(
    paintingId: string,
    req: { suites?: string[]; dimensions?: string[]; topK?: number },
  ): Promise<ProbeResult> {
    return this.json(`/api/paintings/${paintingId}/probe`, 'POST', req);
  }
  embeddingTables(): Promise<EmbeddingTable[]> {
    return this.request('/api/embedding-tables');
  }
  /** Imports an embeddings table (.parquet, .npy, .csv); `column` names the embedding column. */
  uploadEmbeddingTable(file: Blob, opts: { name?: string; column?: string } = {}): Promise<EmbeddingTable> {
    const form = new FormData();
    if (opts.name) form.append('name', opts.name);
    if (opts.column) form.append('column', opts.column);
    form.append('file', file, (file as File).name ?? 'embeddings');
    return this.request('/api/embedding-tables', { method: 'POST', body: form });
  }
  /** A 2-D map of the collection or of imported tables. */
  embeddingMap(req: {
    source: 'collection' | 'tables';
    tables?: string[];
    method?: 'pca' | 'umap';
    title?: string;
    fields?: string[];
  }): Promise<EmbeddingMap> {
    return this.json('/api/embedding-maps', 'POST', req);
  }
  exportUrl(paintingId: string): string {
    return `${this.base}/api/paintings/${paintingId}/export`;
  }
}

export interface W3CAnnotation {
  id?: string;
  type: 'Annotation';
  body: { type: 'TextualBody'; purpose: string; value: string }[];
  target: { source: string; selector: { type: string; value: string; conformsTo?: string } };
  [k: string]: unknown;
}
