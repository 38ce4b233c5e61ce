/**
 * `npm run bench [-- --quick] [-- --only model|attribution|server]`: model and attribution benchmarks of a
 * ViT-B/32-shaped CLIP with random weights on the wasm backend, and the server load test (50 concurrent
 * explanation requests with the toy model over loopback). Prints tables with PASS/MISS per target and
 * writes bench/results/latest.json.
 *
 * @example
 * npm run bench -- --quick --only model
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.ts';
import { type AttributionResult, benchAttribution } from './attribution-bench.ts';
import { type BatchBenchRow, runBatchBench } from './batch-bench.ts';
import { b32Config, type MemorySnapshot, makeEngine, memorySnapshot, round } from './common.ts';
import { measureMatmul } from './matmul.ts';
import { benchModel, type ModelRow } from './model-bench.ts';
import { checkTarget, formatChecks, formatTable, type TargetCheck } from './report.ts';
import { runServerLoadBench, type ServerLoadResult } from './server-load.ts';
import { benchSteer, type SteerBenchResult } from './steer-bench.ts';
import { runVitlBench, type VitlResult } from './vitl-bench.ts';

type Section = 'model' | 'attribution' | 'server' | 'batch' | 'steer' | 'vitl';
const SECTIONS: Section[] = ['model', 'attribution', 'server', 'batch', 'steer', 'vitl'];

function parseArgs(argv: string[]): { quick: boolean; only?: Section } {
  let quick = false;
  let only: Section | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      if (!SECTIONS.includes(v as Section))
        throw new Error(`--only must be one of ${SECTIONS.join(', ')}, got ${JSON.stringify(v)}`);
      only = v as Section;
    } else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${SECTIONS.join('|')}]`);
      process.exit(0);
    } else
      throw new Error(`unknown option ${JSON.stringify(a)} (known: --quick, --only ${SECTIONS.join('|')})`);
  }
  return { quick, only };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const backend = await initBackend('wasm');
  const log = (s: string) => console.log(s);
  const load0 = loadavg();
  log(
    `artprobe bench: ViT-B/32-shaped random weights, backend ${backend.name} (tfjs ${backend.tfjsVersion}), ` +
      `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${load0.map((x) => x.toFixed(2)).join(' ')}` +
      `${opts.quick ? ', QUICK mode' : ''}`,
  );

  const cfg = b32Config();
  const memory: Record<string, MemorySnapshot> = { start: memorySnapshot() };
  const mm = measureMatmul({ runs: opts.quick ? 3 : 7 });
  log(`\nMatmul throughput (2-D, non-transposed = wasm fast path; fastest of ${opts.quick ? 3 : 7})`);
  log(
    formatTable(
      ['case', 'shape', 'ms', 'GFLOP/s', 'fast path'],
      mm.cases.map((c) => [c.name, c.shape, c.ms, c.gflops, c.fastPath ? 'yes' : 'no']),
    ),
  );
  log(`reference (best fast-path case): ${mm.peakGflops.toFixed(1)} GFLOP/s`);

  const checks: TargetCheck[] = [];
  let modelRows: ModelRow[] | undefined;
  if (!opts.only || opts.only === 'model') {
    log('\nModel on both engines (runs interleaved across engines): timing…');
    const made = [await makeEngine('tfjs', cfg), await makeEngine('onnx', cfg)];
    modelRows = await benchModel(
      made.map((m) => m.engine),
      cfg,
      { runs: opts.quick ? 3 : 7, heavyRuns: opts.quick ? 1 : 5, peakGflops: mm.peakGflops, log },
    );
    for (const m of made) m.dispose();
    memory.model = memorySnapshot();
    const rows = modelRows;
    log(
      `\nModel (median of ${opts.quick ? '3 (batch 8: 1)' : '7 (batch 8: 5)'} interleaved runs after warm-up; ` +
        `of matmul = achieved GFLOP/s ÷ ${mm.peakGflops.toFixed(1)} GFLOP/s, the wasm fast path)`,
    );
    log(
      formatTable(
        [
          'engine',
          'workload',
          'batch',
          'ms/item',
          'best ms/item',
          'CPU ms/item',
          'GFLOP/item',
          'GFLOP/s',
          'of wasm matmul',
          'spread',
        ],
        rows.map((r) => [
          r.engine,
          r.workload,
          r.batch,
          r.msPerItem,
          r.minMsPerItem,
          r.cpuMsPerItem,
          r.gflopPerItem,
          r.gflopPerItem / (r.msPerItem / 1000),
          `${(100 * r.fractionOfMatmul).toFixed(0)}%`,
          `${(100 * r.spread).toFixed(0)}%`,
        ]),
      ),
    );
    const wasm = rows.find((r) => r.engine !== 'onnx')?.engine ?? 'tfjs-wasm';
    for (const [clock, key] of [
      ['median', 'msPerItem'],
      ['best run', 'minMsPerItem'],
    ] as const) {
      const per = (e: string, w: string, b: number) =>
        rows.find((r) => r.engine === e && r.workload === w && r.batch === b)?.[key] ?? Number.NaN;
      const fwd = 'image forward';
      const grad = 'image forward + input gradient';
      checks.push(
        checkTarget(`${wasm} image forward, batch 8 (${clock})`, per(wasm, fwd, 8), 400, 'ms/image'),
      );
      checks.push(
        checkTarget(
          `${wasm} forward+gradient ÷ forward, batch 8 (${clock})`,
          per(wasm, grad, 8) / per(wasm, fwd, 8),
          3,
          '×',
        ),
      );
      checks.push(
        checkTarget(
          `onnx ÷ ${wasm}, image forward, batch 8 (${clock}; 6× faster)`,
          per('onnx', fwd, 8) / per(wasm, fwd, 8),
          1 / 6,
          '×',
        ),
      );
      checks.push(
        checkTarget(
          `onnx ÷ ${wasm}, forward + input gradient, batch 8 (${clock}; 5× faster)`,
          per('onnx', grad, 8) / per(wasm, grad, 8),
          1 / 5,
          '×',
        ),
      );
      for (const b of [8, 1]) {
        checks.push(
          checkTarget(
            `onnx forward+gradient ÷ forward, batch ${b} (${clock})`,
            per('onnx', grad, b) / per('onnx', fwd, b),
            2.5,
            '×',
          ),
        );
      }
    }
  }

  let attribution: AttributionResult[] | undefined;
  if (!opts.only || opts.only === 'attribution') {
    attribution = [];
    for (const kind of ['onnx', 'tfjs'] as const) {
      log(`\nAttribution on ${kind}: one ${cfg.vision.imageSize}px image × 8 random prompts, one run each…`);
      const { engine, dispose } = await makeEngine(kind, cfg);
      attribution.push(await benchAttribution(engine, cfg, { quick: opts.quick, log }));
      dispose();
      memory[`attribution ${kind}`] = memorySnapshot();
    }
    log(`\nAttribution (seconds; one run each${opts.quick ? '' : ', occlusion rows fastest of 2'})`);
    log(
      formatTable(
        ['engine', 'method', 'params', 'prompts', 'seconds', 'CPU s', 'work'],
        attribution
          .flatMap((a) => a.rows.map((r) => ({ ...r, engine: a.engine })))
          .map((r) => [
            r.engine,
            r.method,
            JSON.stringify(r.params),
            r.prompts,
            r.seconds,
            r.cpuSeconds,
            r.note,
          ]),
      ),
    );
    if (opts.quick)
      log('(quick mode: SmoothGrad and IG at reduced sizes; full sizes are 16 samples and 32 steps)');
    for (const a of attribution) {
      checks.push(
        checkTarget(`${a.engine} occlusion time, 8 prompts ÷ 1 prompt (wall)`, a.occlusion8over1, 1.2, '×'),
      );
      checks.push(
        checkTarget(
          `${a.engine} occlusion time, 8 prompts ÷ 1 prompt (CPU time)`,
          a.occlusion8over1Cpu,
          1.2,
          '×',
        ),
      );
    }
  }

  let server: ServerLoadResult | undefined;
  if (!opts.only || opts.only === 'server') {
    log(
      '\nServer (issues 6, 11): 50 concurrent explanation requests + an export with the toy model over loopback…',
    );
    server = await runServerLoadBench({ requests: 50 });
    log(
      formatTable(
        ['requests', 'completed', 'failed', 'cached', 'seconds', 'start RSS MB', 'peak RSS MB', 'jobs in DB'],
        [
          [
            server.requests,
            server.completed,
            server.failed,
            server.cached,
            server.seconds,
            server.startRssMB,
            server.peakRssMB,
            server.dbJobs,
          ],
        ],
      ),
    );
    log(
      `/api/health under load (50 jobs + an export): p50 ${server.healthP50Ms} ms, p99 ${server.healthP99Ms} ms, ` +
        `max ${server.healthMaxMs} ms over ${server.healthSamples} samples; worker peak RSS ${server.workerPeakRssMB} MB, ` +
        `server + workers ${server.totalPeakRssMB} MB; export ${server.exportMB} MB in ${server.exportSeconds} s`,
    );
    checks.push(
      checkTarget('server load: /api/health p99 (50 jobs + an export)', server.healthP99Ms, 200, 'ms'),
    );
    checks.push(
      checkTarget('server load: server + model workers peak RSS', server.totalPeakRssMB, 2048, 'MB'),
    );
    checks.push(checkTarget('server load: requests not completed', server.failed, 0, 'jobs'));
    checks.push(checkTarget('server load: peak RSS', server.peakRssMB, 2048, 'MB'));
    checks.push(
      checkTarget(
        'server load: jobs in database − requests',
        Math.abs(server.dbJobs - server.requests),
        0,
        'jobs',
      ),
    );
  }
  let batch: BatchBenchRow[] | undefined;
  if (!opts.only || opts.only === 'batch') {
    log(
      '\nMany workers (issue 16): 120 toy paintings × 3 prompts through BullMQ on a local redis-server, 1 vs 2 workers…',
    );
    batch = await runBatchBench({ repeats: opts.quick ? 1 : 2, images: opts.quick ? 40 : 120, log });
    log(
      formatTable(
        ['method', 'workers', 'jobs', 'seconds', 'jobs/s', 'speed-up', 'load'],
        batch.map((r) => [r.method, r.workers, r.jobs, r.seconds, r.jobsPerSecond, r.speedup, r.load1]),
      ),
    );
  }

  let steer: SteerBenchResult | undefined;
  if (!opts.only || opts.only === 'steer') {
    log('\nSteering (issue 14): smallest flipping ε per painting and dimension, tiny-b32…');
    steer = await benchSteer({ quick: opts.quick, log });
    log(
      `steer: median ${steer.medianSeconds.toFixed(2)} s per painting on ${steer.engine} (${steer.rows.length} paintings)`,
    );
  }

  let vitl: VitlResult | undefined;
  if (!opts.only || opts.only === 'vitl') {
    log(
      '\nViT-L/14@336 (random weights) through `artprobe explain --engine onnx`: one 1024×768 painting × 8 prompts…',
    );
    vitl = await runVitlBench({ quick: opts.quick, log });
    log(
      formatTable(
        ['method', 'params', 'prompts', 'seconds', 's per prompt', 'peak RSS MB'],
        vitl.rows.map((r) => [
          r.method,
          JSON.stringify(r.params),
          r.prompts,
          r.seconds,
          r.seconds / r.prompts,
          r.peakRssMB,
        ]),
      ),
    );
    const sec = (m: string) => vitl?.rows.find((r) => r.method === m);
    checks.push(checkTarget('ViT-L/14@336 onnx image forward', vitl.forwardSeconds, 2.5, 's/image'));
    const g = sec('gradient');
    if (g) checks.push(checkTarget('ViT-L/14@336 onnx input gradient', g.seconds / g.prompts, 6, 's/prompt'));
    const c = sec('chefer-all');
    if (c) checks.push(checkTarget('ViT-L/14@336 onnx Chefer-all', c.seconds / c.prompts, 10, 's/prompt'));
    const o = sec('occlusion');
    if (o)
      checks.push(checkTarget('ViT-L/14@336 onnx occlusion 12×12 windows, 8 prompts', o.seconds, 300, 's'));
    checks.push(
      checkTarget(
        'ViT-L/14@336 onnx peak RSS (any method)',
        Math.max(...vitl.rows.map((r) => r.peakRssMB)),
        12288,
        'MB',
      ),
    );
  }
  memory.end = memorySnapshot();
  log('\nMemory (RSS of the process; wasm heap = linear memory size, which only grows)');
  log(
    formatTable(
      ['after', 'RSS MB', 'wasm heap MB', 'live tensors', 'tensor MB'],
      Object.entries(memory).map(([k, m]) => [k, m.rssMB, m.wasmHeapMB, m.numTensors, m.tensorBytesMB]),
    ),
  );

  log('\nTargets (median = median of runs; best run = fastest run, the least disturbed by other processes)');
  log(formatChecks(checks));
  const load1 = loadavg();
  const totalS = (performance.now() - started) / 1000;
  log(
    `\ntotal ${totalS.toFixed(0)} s; load average at end ${load1.map((x) => x.toFixed(2)).join(' ')}` +
      (load1[0] > cpus().length * 0.75 ? ' (machine busy: numbers may be noisy, rerun to confirm)' : ''),
  );

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        options: opts,
        environment: {
          node: process.version,
          tfjs: tf.version.tfjs,
          backend: backend.name,
          cpus: cpus().length,
          cpu: cpus()[0]?.model.trim(),
          loadAverageStart: load0,
          loadAverageEnd: load1,
        },
        config: { vision: cfg.vision, text: cfg.text, embedDim: cfg.embedDim },
        matmul: mm,
        model: modelRows,
        attribution,
        server,
        batch,
        steer,
        vitl,
        memory,
        checks,
        totalSeconds: round(totalS),
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
