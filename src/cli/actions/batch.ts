/**
 * The work of `artprobe batch` and `artprobe batch status` (options are declared in `../commands/batch.ts`):
 * plans the run (hashing the model and every painting), submits its unfinished jobs to Redis, follows the run
 * with a progress bar across all workers and, when nothing is left, assembles `manifest.json` and the run
 * manifest `runs/<run>.json` in the output.
 *
 * @example
 * await runBatch({ redis: 'redis://127.0.0.1:6379', model: 'M', images: 'paintings/', prompt: ['a wave'],
 *   contrast: [], ensemble: [], suite: [], method: 'rollout', param: [], view: 'crop', tileOverlap: 0.25,
 *   opacity: 0.6, out: 'out/', attempts: 3, prefix: 'artprobe' });
 */
import cliProgress from 'cli-progress';
import type { TargetSpec } from '../../attribution/target.ts';
import type { ViewKind } from '../../attribution/views.ts';
import { assembleRunManifest, type RunManifest } from '../../batch/assemble.ts';
import { type ImageSource, parseMethodGroups, planBatch, suiteTargets } from '../../batch/plan.ts';
import { formatDuration, formatProgress, type RunProgress, watchRun } from '../../batch/progress.ts';
import {
  formatStatus,
  getRun,
  listRuns,
  openRunQueue,
  runCounts,
  runStatus,
  type SubmitResult,
  submitRun,
} from '../../batch/queue.ts';
import { connectRedis, redactUrl } from '../../batch/redis.ts';
import { openStore } from '../../batch/store.ts';
import { parseTargets } from '../commands/explain.ts';
import { parseMethodParams } from './explain.ts';

/** Options of `artprobe batch`, as commander parses them. */
export interface BatchCliOptions {
  redis?: string;
  model?: string;
  images?: string;
  catalog?: string;
  imageColumn?: string;
  prompt: string[];
  labels?: string;
  contrast: string[];
  ensemble: string[];
  suite: string[];
  dimensions?: string;
  method?: string;
  param: string[];
  view: string;
  tileOverlap: number;
  opacity: number;
  out?: string;
  run?: string;
  attempts: number;
  retryFailed?: boolean;
  detach?: boolean;
  prefix: string;
  json?: boolean;
  quiet?: boolean;
}

/** Options of `artprobe batch status`. */
export interface BatchStatusCliOptions {
  redis?: string;
  run?: string;
  slowest: number;
  failures: number;
  prefix?: string;
  json?: boolean;
}

function need<T>(v: T | undefined, option: string): T {
  if (v === undefined || v === '') throw new Error(`batch: ${option} is required`);
  return v;
}

/** The outcome of `artprobe batch` (printed with --json). */
export interface BatchOutcome {
  run: string;
  submit: SubmitResult;
  detached: boolean;
  progress?: RunProgress;
  manifest?: RunManifest;
}

/**
 * Runs `artprobe batch`: plan, submit, follow, assemble.
 *
 * @example
 * await runBatch(options);
 */
export async function runBatch(o: BatchCliOptions): Promise<BatchOutcome> {
  const url = need(o.redis, '--redis');
  const model = need(o.model, '--model');
  const out = need(o.out, '--out');
  const methodSpec = need(o.method, '--method');
  if ((o.images === undefined) === (o.catalog === undefined))
    throw new Error('batch: give either --images DIR or --catalog FILE');
  const images: ImageSource =
    o.images !== undefined ? { dir: o.images } : { catalog: o.catalog as string, imageColumn: o.imageColumn };
  const targets: TargetSpec[] = [];
  if (o.prompt.length || o.labels !== undefined || o.contrast.length || o.ensemble.length)
    targets.push(...parseTargets(o));
  if (o.suite.length)
    targets.push(
      ...(await suiteTargets(
        o.suite,
        o.dimensions
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )),
    );
  if (targets.length === 0)
    throw new Error('batch: give at least one --prompt, --labels, --contrast, --ensemble or --suite');
  const params = parseMethodParams(o.param);
  const methodGroups = parseMethodGroups(methodSpec).map((g) => g.map((id) => ({ id, params: params[id] })));
  const tty = process.stderr.isTTY && !o.quiet && !o.json;
  const say = (line: string) => {
    if (!o.quiet && !o.json) process.stderr.write(`${line}\n`);
  };

  const plan = await planBatch({
    model,
    images,
    targets,
    methodGroups,
    view: o.view as ViewKind,
    tileOverlap: o.tileOverlap,
    opacity: o.opacity,
    out,
    run: o.run,
    attempts: o.attempts,
    onHash: tty
      ? (done, total) => {
          if (done % 100 === 0 || done === total)
            process.stderr.write(`\rhashing paintings ${done}/${total}`);
          if (done === total) process.stderr.write('\n');
        }
      : undefined,
  });
  const run = plan.spec.name;
  const redis = await connectRedis(url);
  try {
    const submit = await submitRun(redis, plan, { prefix: o.prefix, retryFailed: o.retryFailed });
    say(
      `run ${run}: ${plan.spec.images} paintings × ${plan.spec.methods.length} method group(s) × ${plan.spec.targets.length} target(s) = ${submit.jobs} jobs; ` +
        `enqueued ${submit.enqueued}, already done ${submit.done}, already queued ${submit.queued}, parked ${submit.parked}` +
        `${submit.retried ? `, ${submit.retried} parked job(s) sent back` : ''}`,
    );
    const outcome: BatchOutcome = { run, submit, detached: !!o.detach };
    if (o.detach) {
      say(
        `follow it with: artprobe batch status --redis ${redactUrl(url)}${o.prefix !== 'artprobe' ? ` --prefix ${o.prefix}` : ''} --run ${run} (or run this command again)`,
      );
      if (o.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
      return outcome;
    }
    const bar = tty
      ? new cliProgress.SingleBar(
          {
            format: `${run} |{bar}| {value}/{total} done, {failed} failed, {active} active, {rate} jobs/s, ETA {left}`,
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    let lastLine = 0;
    const watchStart = Date.now();
    let firstDone: number | undefined;
    let hinted = false;
    const progress = await watchRun(redis, run, {
      prefix: o.prefix,
      onUpdate: (p) => {
        firstDone ??= p.done + p.failed;
        if (
          !hinted &&
          p.active === 0 &&
          p.done + p.failed === firstDone &&
          Date.now() - watchStart > 15_000
        ) {
          hinted = true;
          bar?.stop();
          say(
            `no worker has taken a job of run ${run} yet: start some with \`artprobe worker --redis ${redactUrl(url)}\``,
          );
        }
        const payload = {
          failed: p.failed,
          active: p.active,
          rate: p.rate.toFixed(1),
          left: p.pending === 0 ? '0s' : formatDuration(p.etaSeconds),
        };
        if (bar) {
          if (!bar.isActive) bar.start(p.total, p.done, payload);
          bar.setTotal(p.total);
          bar.update(p.done, payload);
        } else if (Date.now() - lastLine >= 10_000 || p.pending === 0) {
          lastLine = Date.now();
          say(formatProgress(p));
        }
      },
    });
    bar?.stop();
    outcome.progress = progress;
    const status = await runStatus(redis, run, { prefix: o.prefix, slowest: 0, failures: 1000 });
    const store = await openStore(plan.spec.out);
    try {
      const spec = (await getRun(redis, run, o.prefix)) ?? plan.spec;
      outcome.manifest = await assembleRunManifest(store, spec, status);
    } finally {
      store.close();
    }
    say(
      `run ${run} finished: ${progress.done} done, ${progress.failed} failed; ${outcome.manifest.entries} maps in ${plan.spec.out}/manifest.json (run manifest runs/${run}.json)`,
    );
    if (progress.failed > 0) {
      if (!o.quiet)
        process.stderr.write(
          `!! ${progress.failed} job(s) parked after failing; see: artprobe batch status --redis ${redactUrl(url)} --run ${run}\n`,
        );
      process.exitCode = 1;
    }
    if (o.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    return outcome;
  } finally {
    redis.disconnect();
  }
}

/**
 * Runs `artprobe batch status`: one run in detail, or every run's totals.
 *
 * @example
 * await runBatchStatus({ redis: 'redis://127.0.0.1:6379', run: 'museum', slowest: 10, failures: 20, prefix: 'artprobe' });
 */
export async function runBatchStatus(opts: BatchStatusCliOptions): Promise<void> {
  const o = { ...opts, prefix: opts.prefix ?? 'artprobe' };
  const url = need(o.redis, '--redis');
  const redis = await connectRedis(url);
  try {
    if (o.run) {
      const s = await runStatus(redis, o.run, {
        prefix: o.prefix,
        slowest: o.slowest,
        failures: o.failures,
      });
      process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
      return;
    }
    const runs = await listRuns(redis, o.prefix);
    const rows = [];
    for (const spec of runs) {
      const q = openRunQueue(redis, spec.name, o.prefix);
      try {
        rows.push({
          run: spec.name,
          out: spec.out,
          created: spec.created,
          counts: await runCounts(redis, q, spec.name, o.prefix),
        });
      } finally {
        await q.close();
      }
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) process.stdout.write('no runs\n');
    for (const r of rows)
      process.stdout.write(
        `${r.run}  total ${r.counts.total}  done ${r.counts.done}  failed ${r.counts.failed}  active ${r.counts.active}  waiting ${r.counts.waiting + r.counts.delayed}  out ${r.out}\n`,
      );
  } finally {
    redis.disconnect();
  }
}
