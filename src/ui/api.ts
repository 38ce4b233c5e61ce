/**
 * A small typed client of the artprobe server API (`/api/...`): paintings (list, upload, import by URL),
 * explanation jobs (create, poll, maps), zero-shot probes and suites, embedding tables and maps, W3C
 * annotations, region metrics, catalogs, health.
 * Collection work too: catalog and expert-region imports with previews, deleting paintings, versioned region
 * saves, batches with progress, cancel and resume, and their agreement summaries.
 * Errors are thrown as `ApiError` with the server's message (and status: 409 for a stale region version).
 *
 * @example
 * const api = new Api('');
 * const p = await api.upload(file);
 * const job = await api.createJob({ paintingId: p.id, method: 'chefer-all', target: { kind: 'prompt', prompt: 'a wave' } });
 * const done = await api.waitJob(job.id, (j) => console.log(j.progress));
 * const { shape, data } = await api.paintingMap(done.id);
 */
// types only: the schemas themselves (TypeBox) stay out of the UI bundle

import type {
  Batch,
  BatchCreate,
  BatchSummary,
  CatalogPreview,
  CatalogTruth,
  RegionRevisionResult,
  RegionsImportResult,
} from '../server/schemas/collections.ts';
import type {
  DecomposeRequest,
  Decomposition,
  DiagnosticsTask,
  HeadRolesRequest,
  RobustnessRequest,
  SteerRequestBody,
  SteerResult,
} from '../server/schemas/decompose.ts';
import type { TextRelevanceResult } from '../server/schemas/text-relevance.ts';
import type {
  Annotation,
  AnnotationPage,
  EmbeddingMap,
  EmbeddingMapRequest,
  EmbeddingTable,
  Health,
  Job,
  JobCreate,
  MapFile,
  MetricName,
  MetricRow as MetricRowBody,
  MetricsResult,
  Painting,
  ProbeRequest,
  ProbeResult,
  Suite,
  SuiteSummary,
} from '../server/schemas.ts';
import { parseNpy } from './npy.ts';

// The API's shapes, from the server's schemas (one definition; the UI cannot drift from the server).
export type {
  Batch,
  BatchCreate,
  BatchSummary,
  CatalogPreview,
  CatalogTruth,
  RegionRevisionResult,
  RegionsImportResult,
} from '../server/schemas/collections.ts';
export type {
  Decomposition,
  DiagnosticsTask,
  DirectionScores,
  HeadRolesResult,
  RobustnessRow,
  SteerResult,
} from '../server/schemas/decompose.ts';
export { REGION_PROPS } from '../server/schemas/region-props.ts';
export type {
  EmbeddingMap,
  EmbeddingTable,
  Health,
  Job,
  JobCreate,
  JobState,
  MetaValue,
  Painting,
  ProbeResult,
  SuiteSummary,
  Target,
  ZeroShotAnswer,
} from '../server/schemas.ts';

/** A region metric row; a metric the server left out (the region covers no pixel) is null. */
export type MetricRow = Omit<MetricRowBody, MetricName> & Record<MetricName, number | null>;

/** Every metric, unscored (the type makes the list complete). */
const NO_SCORES: Record<MetricName, null> = {
  pointing: null,
  pointingTol: null,
  pointingShape: null,
  energy: null,
  massAccuracy: null,
  rankAccuracy: null,
  auroc: null,
  aurocAbs: null,
  iouTopK: null,
  nss: null,
};

/**
 * A job request as the UI builds it: `method` and `view` may come from a form (any string: the server answers
 * 400 naming the problem) and `params` are that method's parameters.
 */
export type JobRequest = Omit<JobCreate, 'method' | 'params' | 'view'> & {
  method: JobCreate['method'] | (string & {});
  params?: Record<string, unknown>;
  view?: JobCreate['view'] | (string & {});
};

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
  createJob(req: JobRequest): Promise<Job> {
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
  mapUrl(jobId: string, kind: MapFile): string {
    return `${this.base}/api/jobs/${jobId}/maps/${kind}`;
  }
  /** The job's map in painting pixels ([H, W], NaN outside the view). */
  async paintingMap(jobId: string): Promise<{ shape: number[]; data: Float32Array }> {
    return parseNpy(await this.request<ArrayBuffer>(`/api/jobs/${jobId}/maps/painting.npy`));
  }
  annotations(paintingId: string): Promise<AnnotationPage> {
    return this.request(`/api/paintings/${paintingId}/annotations`);
  }
  addAnnotation(paintingId: string, doc: W3CAnnotation): Promise<Annotation> {
    return this.json(`/api/paintings/${paintingId}/annotations`, 'POST', doc);
  }
  /** `id` is the annotation's uuid (without `urn:uuid:`). */
  updateAnnotation(id: string, doc: W3CAnnotation): Promise<Annotation> {
    return this.json(`/api/annotations/${id}`, 'PUT', doc);
  }
  deleteAnnotation(id: string): Promise<unknown> {
    return this.request(`/api/annotations/${id}`, { method: 'DELETE' });
  }
  async metrics(jobId: string): Promise<Omit<MetricsResult, 'rows'> & { rows: MetricRow[] }> {
    const res = await this.json<MetricsResult>('/api/metrics', 'POST', { jobId });
    return { ...res, rows: res.rows.map((r) => ({ ...NO_SCORES, ...r })) };
  }
  /** A probe suite (dimensions with templates and labels). */
  suite(name: string): Promise<Suite> {
    return this.request(`/api/suites/${name}`);
  }
  /** Default and workspace probe suites with their dimension names. */
  suites(): Promise<SuiteSummary[]> {
    return this.request('/api/suites');
  }
  /** Zero-shot answers of a painting for some suites / dimensions (cached by the server). */
  probe(paintingId: string, req: ProbeRequest): Promise<ProbeResult> {
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
  embeddingMap(req: EmbeddingMapRequest): Promise<EmbeddingMap> {
    return this.json('/api/embedding-maps', 'POST', req);
  }
  exportUrl(paintingId: string): string {
    return `${this.base}/api/paintings/${paintingId}/export`;
  }
  /** Deletes a painting with its jobs, maps and regions. */
  deletePainting(id: string): Promise<unknown> {
    return this.request(`/api/paintings/${id}`, { method: 'DELETE' });
  }
  /** Cancels a queued or running job. */
  cancelJob(id: string): Promise<unknown> {
    return this.request(`/api/jobs/${id}/cancel`, { method: 'POST' });
  }
  private upload1<T>(path: string, file: Blob): Promise<T> {
    const form = new FormData();
    form.append('file', file, (file as File).name ?? 'upload');
    return this.request(path, { method: 'POST', body: form });
  }
  /** What a catalog file would match (nothing stored). */
  previewCatalog(file: Blob): Promise<CatalogPreview> {
    return this.upload1('/api/catalogs/preview', file);
  }
  /** Imports a catalog: matched rows become the paintings' metadata. */
  importCatalog(file: Blob): Promise<{ matched: number; rows: number }> {
    return this.upload1('/api/catalogs', file);
  }
  /** Imports (or with dryRun, previews) an expert-region file: W3C, COCO, LabelMe or VIA. */
  importRegions(file: Blob, opts: { dryRun?: boolean; lock?: boolean } = {}): Promise<RegionsImportResult> {
    const q = new URLSearchParams();
    if (opts.dryRun) q.set('dryRun', 'true');
    if (opts.lock === false) q.set('lock', 'false');
    return this.upload1(`/api/annotations/import${q.size ? `?${q}` : ''}`, file);
  }
  /**
   * Saves a region's new version (made on `baseVersion`); 409 when the server has another version, 423 when
   * it is locked. `annotation` omitted: only the lock changes.
   */
  saveRegion(
    id: string,
    rev: { baseVersion: number; annotation?: W3CAnnotation; locked?: boolean },
  ): Promise<RegionRevisionResult> {
    return this.json(`/api/annotations/${id}/revisions`, 'POST', rev);
  }
  /** One annotation as the server has it. */
  annotation(id: string): Promise<Annotation> {
    return this.request(`/api/annotations/${id}`);
  }
  createBatch(req: BatchCreate): Promise<Batch> {
    return this.json('/api/batches', 'POST', req);
  }
  batches(): Promise<Batch[]> {
    return this.request('/api/batches');
  }
  batch(id: string, items = false): Promise<Batch> {
    return this.request(`/api/batches/${id}${items ? '?items=true' : ''}`);
  }
  cancelBatch(id: string): Promise<Batch> {
    return this.request(`/api/batches/${id}/cancel`, { method: 'POST' });
  }
  resumeBatch(id: string): Promise<Batch> {
    return this.request(`/api/batches/${id}/resume`, { method: 'POST' });
  }
  deleteBatch(id: string): Promise<unknown> {
    return this.request(`/api/batches/${id}`, { method: 'DELETE' });
  }
  /** The batch's agreement with expert regions (state `computing` while scores are being computed). */
  batchSummary(id: string): Promise<BatchSummary> {
    return this.request(`/api/batches/${id}/summary`);
  }
  batchCsvUrl(id: string): string {
    return `${this.base}/api/batches/${id}/summary.csv`;
  }
  batchMapsUrl(id: string): string {
    return `${this.base}/api/batches/${id}/maps.zip`;
  }
  /** Each word's share of what makes the prompts match the painting (text-side relevance). */
  textRelevance(paintingId: string, prompts: string[], view = 'crop'): Promise<TextRelevanceResult> {
    return this.json(`/api/paintings/${paintingId}/text-relevance`, 'POST', { prompts, view });
  }
  /** The catalog's label of a painting for a probe dimension. */
  catalogTruth(paintingId: string, suite: string, dimension: string): Promise<CatalogTruth> {
    const q = new URLSearchParams({ suite, dimension });
    return this.request(`/api/paintings/${paintingId}/catalog-truth?${q}`);
  }
  /** Every head's, MLP's and embedding term's direct contribution to the painting's embedding, on text directions. */
  decompose(paintingId: string, req: DecomposeRequest): Promise<Decomposition> {
    return this.json(`/api/paintings/${paintingId}/decompose`, 'POST', req);
  }
  /** Every head's patch map of one direction of a decomposition: shape [L, H, G, G]. */
  async decompositionHeads(id: string, direction = 0): Promise<{ shape: number[]; data: Float32Array }> {
    const path = `/api/decompositions/${id}/heads.npy?direction=${direction}`;
    return parseNpy(await this.request<ArrayBuffer>(path));
  }
  /** Steers the painting along CLIP's gradient under an L∞ budget: answers before and after. */
  steer(paintingId: string, req: SteerRequestBody): Promise<SteerResult> {
    return this.json(`/api/paintings/${paintingId}/steer`, 'POST', req);
  }
  /** URL of a steering run's file (an image, or the perturbation). */
  steerFileUrl(result: Pick<SteerResult, 'files'>, file: keyof SteerResult['files']): string {
    return `${this.base}${result.files[file]}`;
  }
  /** Starts a head-roles task (TextSpan over a vocabulary) over paintings. */
  headRoles(req: HeadRolesRequest): Promise<DiagnosticsTask> {
    return this.json('/api/decompose/heads', 'POST', req);
  }
  /** Starts a robustness task: the smallest budget flipping each dimension's answer, per painting. */
  robustness(req: RobustnessRequest): Promise<DiagnosticsTask> {
    return this.json('/api/steer/robustness', 'POST', req);
  }
  diagnosticsTask(id: string): Promise<DiagnosticsTask> {
    return this.request(`/api/diagnostics/tasks/${id}`);
  }
  cancelDiagnosticsTask(id: string): Promise<DiagnosticsTask> {
    return this.request(`/api/diagnostics/tasks/${id}/cancel`, { method: 'POST' });
  }
  /** Polls a diagnostics task until it ends (`onUpdate` sees each state); throws when it failed or was cancelled. */
  async waitDiagnosticsTask(
    id: string,
    onUpdate?: (t: DiagnosticsTask) => void,
    intervalMs = 300,
  ): Promise<DiagnosticsTask> {
    for (;;) {
      const t = await this.diagnosticsTask(id);
      onUpdate?.(t);
      if (t.state === 'done') return t;
      if (t.state === 'failed' || t.state === 'cancelled')
        throw new ApiError(500, `task ${t.state}${t.error ? `: ${t.error}` : ''}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/**
 * An annotation as the UI writes it (a W3C Web Annotation: one TextualBody per purpose, one selector). The
 * server accepts any W3C annotation with exactly one region and answers it as an `Annotation`.
 *
 * @example
 * await api.addAnnotation(p.id, { type: 'Annotation', body: [{ type: 'TextualBody', purpose: 'tagging', value: 'wave' }], target });
 */
export interface W3CAnnotation {
  id?: string;
  type: 'Annotation';
  body: { type: 'TextualBody'; purpose: string; value: string }[];
  target: { source: string; selector: { type: string; value: string; conformsTo?: string } };
  [k: string]: unknown;
}
