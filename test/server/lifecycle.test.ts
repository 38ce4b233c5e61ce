/**
 * Workspace lifecycle of `artprobe serve` (issue: "never blocked by its own work"): one server per workspace
 * (a second one exits non-zero naming the first one's pid), a busy port and a damaged database stop the start
 * at once with one line and exit code 1, binding beyond loopback generates a token and prints the real
 * address, and a job that keeps killing the server fails for good after --max-attempts with the reason kept.
 * The CLI cases run the build (`npm run build` first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { WorkspaceLockedError } from '../../src/server/workspace/lock.ts';
import { Workspace } from '../../src/server/workspace.ts';
import { requireBuild } from '../cli/run-cli.ts';
import { describeShared, repoRoot, sharedPath } from '../helpers/shared-data.ts';

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; ms: number }>;
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
}

/** Starts `artprobe serve` from the build with no model and no network for the hub. */
function serve(dir: string, args: string[], env: Record<string, string> = {}): Run {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, 'bin/artprobe.mjs'), 'serve', '--no-pull', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ARTPROBE_MODELS: join(dir, 'models'),
      HF_ENDPOINT: 'http://127.0.0.1:9',
      ARTPROBE_TOKEN: '',
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; ms: number }>((r) =>
    child.once('exit', (code) => r({ code, ms: performance.now() - t0 })),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    async waitFor(re, ms = 30_000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${re} in the output: ${out} ${err}`);
    },
  };
}

describe('one server per workspace, in process', () => {
  it('refuses a second app on the same workspace, naming the holder, until the first closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-lock-'));
    const opts = { workspace: join(dir, 'ws'), uiDir: join(dir, 'no-ui') };
    const first = await buildApp(opts);
    try {
      const second = buildApp(opts);
      await expect(second).rejects.toThrow(WorkspaceLockedError);
      await expect(second).rejects.toThrow(
        new RegExp(`already served by another artprobe server \\(pid ${process.pid}`),
      );
    } finally {
      await first.close();
    }
    const again = await buildApp(opts);
    expect((await again.inject('/api/health')).json().workspace.integrity).toBe('ok');
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describeShared('jobs that kill the server', ['toy/A/eval/images'], () => {
  it('fail for good after --max-attempts starts, with the reason kept; fewer are re-queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'artprobe-attempts-'));
    const ws = Workspace.open(join(dir, 'ws'));
    const { painting } = await ws.addPainting(readFileSync(sharedPath('toy/A/eval/images/img_000.png')), {
      name: 'img_000.png',
      info: {
        width: 224,
        height: 224,
        storedWidth: 224,
        storedHeight: 224,
        format: 'png',
        orientation: 1,
        channels: 3,
        space: 'srgb',
        hasAlpha: false,
      },
    });
    const job = (attempts: number) => {
      const id = randomUUID();
      ws.insertJob({
        id,
        state: 'queued',
        paintingId: painting.id,
        modelId: 'model',
        modelFingerprint: 'f'.repeat(64),
        method: 'rollout',
        params: {},
        target: { kind: 'prompt', prompt: `p${attempts}` },
        view: 'crop',
        cacheKey: randomUUID(),
        cachedFrom: null,
        result: null,
      });
      for (let k = 0; k < attempts; k++) ws.markRunning(id); // each start counts; the process died in it
      return id;
    };
    const killer = job(3);
    const survivor = job(1);
    ws.close();
    const app = await buildApp({ workspace: join(dir, 'ws'), uiDir: join(dir, 'no-ui'), maxAttempts: 3 });
    try {
      await app.artprobe.modelReady;
      const k = (await app.inject(`/api/jobs/${killer}`)).json();
      expect(k.state).toBe('failed');
      expect(k.attempts).toBe(3);
      expect(k.error).toMatch(/gave up after 3 attempts: the server stopped .* --max-attempts/);
      expect((await app.inject(`/api/jobs/${survivor}`)).json().state).toBe('queued');
      expect((await app.inject('/api/health')).json().limits.maxAttempts).toBe(3);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('artprobe serve start-up (from the build)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-life-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second server on the workspace exits non-zero naming the first one; the first keeps serving', async () => {
    requireBuild();
    const ws = join(dir, 'ws-two');
    const one = serve(dir, ['--workspace', ws, '--port', '0']);
    children.push(one.child);
    const port = (await one.waitFor(/\(port (\d+)/))[1];
    const two = serve(dir, ['--workspace', ws, '--port', '0']);
    children.push(two.child);
    const { code, ms } = await two.exited;
    expect(code).toBe(1);
    expect(two.err()).toMatch(
      new RegExp(`already served by another artprobe server \\(pid ${one.child.pid}`),
    );
    expect(two.err().trim().split('\n')).toHaveLength(1);
    expect(two.out()).not.toMatch(/listening/);
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
    one.child.kill('SIGTERM');
    expect((await one.exited).code).toBe(0);
    console.log(`second server on a workspace: exit ${code} after ${ms.toFixed(0)} ms`);
  });

  it('a busy port exits non-zero within 5 s with one line', async () => {
    requireBuild();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const s = serve(dir, ['--workspace', join(dir, 'ws-port'), '--port', String(port)]);
      children.push(s.child);
      const { code, ms } = await s.exited;
      expect(code).toBe(1);
      expect(ms).toBeLessThan(5000);
      expect(s.err().trim()).toMatch(
        /^artprobe: cannot listen on 127\.0\.0\.1:\d+: the port is already in use/,
      );
      expect(s.err().trim().split('\n')).toHaveLength(1);
      console.log(`busy port: exit ${code} after ${ms.toFixed(0)} ms`);
      // and the workspace is free again for the next server
      const again = serve(dir, ['--workspace', join(dir, 'ws-port'), '--port', '0']);
      children.push(again.child);
      await again.waitFor(/listening/);
      again.child.kill('SIGTERM');
      await again.exited;
    } finally {
      blocker.close();
    }
  });

  it('a damaged database page stops the start with one line saying what to do', async () => {
    requireBuild();
    const wsDir = join(dir, 'ws-corrupt');
    const ws = Workspace.open(wsDir);
    for (let i = 0; i < 300; i++)
      ws.insertAnnotation(randomUUID(), 'a'.repeat(64), { type: 'Annotation', body: 'x'.repeat(400), n: i });
    ws.close();
    const file = join(wsDir, 'artprobe.db');
    const pages = statSync(file).size / 4096;
    expect(pages).toBeGreaterThan(10);
    // scribble over a page in the middle of the annotations table
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(pages / 2) * 4096);
    const s = serve(dir, ['--workspace', wsDir, '--port', '0']);
    children.push(s.child);
    const { code, ms } = await s.exited;
    expect(code).toBe(1);
    const err = s.err().trim();
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toMatch(
      /^artprobe: workspace database .*artprobe\.db is damaged \(.*\); artprobe did not start/,
    );
    expect(err).toMatch(/\.recover/);
    expect(err).not.toMatch(/SqliteError|\n\s+at /);
    expect(s.out()).not.toMatch(/listening/);
    console.log(`damaged database: exit ${code} after ${ms.toFixed(0)} ms: ${err.slice(0, 160)}…`);
  });

  it('beyond loopback: a token is generated and printed once, the real address is printed, requests need it', async () => {
    requireBuild();
    const s = serve(dir, ['--workspace', join(dir, 'ws-lan'), '--port', '0', '--host', '0.0.0.0']);
    children.push(s.child);
    const port = (await s.waitFor(/listening on http:\/\/0\.0\.0\.0:(\d+)/))[1];
    const token = (await s.waitFor(/token (\S+) \(generated/))[1];
    const link = (await s.waitFor(/one-time link: (http:\/\/\S+)/))[1];
    expect(s.out().split(token).length).toBe(2); // printed once
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/api/health`)).status).toBe(401);
    expect(
      (await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    const signIn = await fetch(`${base}${new URL(link).pathname}${new URL(link).search}`, {
      redirect: 'manual',
    });
    expect(signIn.status).toBe(303);
    const cookie = String(signIn.headers.get('set-cookie')).split(';')[0];
    expect((await fetch(`${base}/api/health`, { headers: { cookie } })).status).toBe(200);
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('refuses bad option values before starting', async () => {
    requireBuild();
    for (const [args, re] of [
      [['--port', 'abc'], /--port must be an integer in 0\.\.65535, got "abc"/],
      [['--max-pixels', 'abc'], /--max-pixels must be an integer/],
      [['--max-tiles', '0'], /--max-tiles must be an integer in 1\.\.256/],
      [['--max-map-pixels', '10'], /--max-map-pixels must be an integer in 50176\.\./],
      [['--host', 'http://x:80/'], /--host must be a host name or an IP address/],
      [['--allow-host', 'a.example:8787'], /--allow-host must be a host name/],
      [['--token', 'short'], /--token must be 16 to 512 characters/],
    ] as [string[], RegExp][]) {
      const s = serve(dir, ['--workspace', join(dir, 'ws-bad'), ...args]);
      children.push(s.child);
      const { code } = await s.exited;
      expect(code, args.join(' ')).toBe(1);
      expect(s.err()).toMatch(re);
      expect(s.out()).not.toMatch(/listening/);
    }
  });
});
