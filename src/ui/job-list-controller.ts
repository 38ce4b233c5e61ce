/**
 * `JobListController`: the explanation jobs of one painting, as a Lit reactive controller. It starts (or
 * reuses) the job of a method × target, follows its progress, loads its map when it is done, and gives its host
 * the cells of <ap-small-multiples> and the rows of <ap-job-progress>. The host re-renders on every change;
 * `onMap` runs when a map has arrived (e.g. to refresh metrics) and `onError` with the message of a failed job.
 *
 * @example
 * private jobs = new JobListController(this, { onMap: () => this.refreshMetrics(), onError: (m) => (this.message = m) });
 * void this.jobs.run(api, { paintingId: p.id, method: 'rollout', target: { kind: 'prompt', prompt: 'a wave' } });
 * html`<ap-job-progress .jobs=${this.jobs.progress()}></ap-job-progress>`;
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { JobProgressUi } from './ap-job-progress.ts';
import type { Cell } from './ap-small-multiples.ts';
import type { Api, Job, Target } from './api.ts';
import { targetText } from './report-export.ts';

/** One method × target: its job (as last polled), its map once loaded, or why it failed. */
export interface Slot {
  job?: Job;
  map?: Float32Array;
  error?: string;
}

export interface JobRequest {
  paintingId: string;
  method: string;
  target: Target;
  view?: string;
}

export class JobListController implements ReactiveController {
  /** Slots by `method|target-json`. */
  private slots = new Map<string, Slot>();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly hooks: { onMap?: () => void; onError?: (message: string) => void } = {},
  ) {
    host.addController(this);
  }

  /** Nothing to set up: jobs start when the host asks for them. */
  hostConnected(): void {}

  /** Slot key of a method and target. */
  static key(method: string, target: Target): string {
    return `${method}|${JSON.stringify(target)}`;
  }

  /** The slot of a method × target, if its job was started. */
  get(method: string, target: Target): Slot | undefined {
    return this.slots.get(JobListController.key(method, target));
  }

  /** The slot of a method and a prompt (by its index in `prompts`). */
  prompt(method: string, prompts: string[], index: number): Slot | undefined {
    const p = prompts[index];
    return p === undefined ? undefined : this.get(method, { kind: 'prompt', prompt: p });
  }

  /** Every job started (as last polled). */
  jobs(): Job[] {
    return [...this.slots.values()].flatMap((s) => (s.job ? [s.job] : []));
  }

  /** Forgets one method × target (so that `run` starts it again, e.g. after a cancel). */
  forget(method: string, target: Target): void {
    this.slots.delete(JobListController.key(method, target));
    this.host.requestUpdate();
  }

  /** Forgets every slot (a new painting or view); jobs still running finish unseen. */
  clear(): void {
    this.slots = new Map();
    this.host.requestUpdate();
  }

  /** Starts (or reuses) the job of a method × target and loads its map when done; never rejects. */
  async run(api: Api, req: JobRequest): Promise<void> {
    const k = JobListController.key(req.method, req.target);
    if (this.slots.has(k)) return;
    const slot: Slot = {};
    this.slots.set(k, slot);
    this.host.requestUpdate();
    try {
      slot.job = await api.createJob(req);
      this.host.requestUpdate();
      const done = await api.waitJob(slot.job.id, (j) => {
        slot.job = j;
        this.host.requestUpdate();
      });
      slot.job = done;
      slot.map = (await api.paintingMap(done.id)).data;
      this.host.requestUpdate();
      this.hooks.onMap?.();
    } catch (e) {
      const cancelled = slot.job?.state === 'cancelled' || /\bcancelled\b/.test((e as Error).message);
      slot.error = cancelled ? 'cancelled' : (e as Error).message;
      if (!cancelled) this.hooks.onError?.(slot.error);
      this.host.requestUpdate();
    }
  }

  /** The cells of the methods × prompts grid. */
  cells(methods: string[], prompts: string[]): Cell[] {
    return methods.flatMap((m) =>
      prompts.map((_, pi): Cell => {
        const s = this.prompt(m, prompts, pi);
        const j = s?.job;
        return {
          method: m,
          prompt: pi,
          map: s?.map,
          signed: j?.result?.signed,
          score: j?.result?.score,
          state: s?.error
            ? s.error === 'cancelled'
              ? 'cancelled'
              : 'failed'
            : s?.map
              ? 'done'
              : ((j?.state === 'done' ? 'running' : j?.state) ?? 'queued'),
          progress: j?.progress ? j.progress.done / Math.max(1, j.progress.total) : 0,
        };
      }),
    );
  }

  /** The rows of <ap-job-progress>: every job started. */
  progress(): JobProgressUi[] {
    return this.jobs().map((j) => ({
      id: j.id,
      label: `${j.method} · ${targetText(j.target)}`,
      state: j.state,
      done: j.progress?.done ?? 0,
      total: j.progress?.total ?? 1,
    }));
  }
}
