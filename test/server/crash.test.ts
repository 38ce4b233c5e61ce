/**
 * Crash safety: `artprobe serve` is killed with SIGKILL while a slow job runs; after a restart the SQLite
 * index passes `integrity_check` (checked by the server at start too), the stale workspace lock of the killed
 * server is taken over, an earlier result is intact, and the killed job is re-queued (attempt 2 of 3).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { describeShared, repoRoot, sharedPath } from '../helpers/shared-data.ts';

interface Server {
  child: ChildProcess;
  base: string;
}

/** Starts the CLI server on a free port and waits until its model is ready. */
async function startServer(ws: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin/artprobe.mjs'),
      'serve',
      '--workspace',
      ws,
      '--model',
      sharedPath('toy/A/model'),
      '--port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 60_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const port = /port (\d+)/.exec(out)?.[1];
      if (port && /model .* ready/.test(out)) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out} ${err}`)));
  });
  return { child, base };
}

const api = async (s: Server, path: string, init?: RequestInit) => {
  const r = await fetch(`${s.base}${path}`, init);
  return {
    status: r.status,
    body: r.headers.get('content-type')?.includes('json')
      ? await r.json()
      : Buffer.from(await r.arrayBuffer()),
  };
};
const postJson = (s: Server, path: string, body: unknown) =>
  api(s, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeShared('server crash safety (SIGKILL during a job)', ['toy/A/model', 'toy/A/eval/images'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-crash-'));
  const ws = join(dir, 'ws');
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts with a sound database, earlier results intact and the killed job re-queued', async () => {
    const s1 = await startServer(ws);
    children.push(s1.child);
    const form = new FormData();
    form.append('file', new Blob([readFileSync(sharedPath('toy/A/eval/images/img_003.png'))]), 'img_003.png');
    const p = await api(s1, '/api/paintings', { method: 'POST', body: form });
    expect(p.status).toBe(201);
    const pid = (p.body as { id: string }).id;
    const fast = await postJson(s1, '/api/jobs', {
      paintingId: pid,
      method: 'chefer-all',
      target: { kind: 'prompt', prompt: 'a red square' },
    });
    const fastId = (fast.body as { id: string }).id;
    let state = '';
    for (let i = 0; i < 200 && state !== 'done'; i++, await sleep(50))
      state = ((await api(s1, `/api/jobs/${fastId}`)).body as { state: string }).state;
    expect(state).toBe('done');
    const overlay = (await api(s1, `/api/jobs/${fastId}/maps/overlay.png`)).body as Buffer;
    const slow = await postJson(s1, '/api/jobs', {
      paintingId: pid,
      method: 'integrated-gradients',
      params: { steps: 4096 },
      target: { kind: 'prompt', prompt: 'a blue circle' },
    });
    const slowId = (slow.body as { id: string }).id;
    for (let i = 0; i < 200 && state !== 'running'; i++, await sleep(50))
      state = ((await api(s1, `/api/jobs/${slowId}`)).body as { state: string }).state;
    expect(state).toBe('running');
    await sleep(300);
    s1.child.kill('SIGKILL');
    await new Promise((r) => s1.child.once('exit', r));

    // the lock of the killed server is left behind, naming its pid
    expect(JSON.parse(readFileSync(join(ws, 'serve.lock'), 'utf8')).pid).toBe(s1.child.pid);
    // the database file as the kill left it
    const db = new Database(join(ws, 'artprobe.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT state FROM jobs WHERE id = ?').get(slowId) as { state: string }).state).toBe(
      'running',
    );
    db.close();

    const s2 = await startServer(ws);
    children.push(s2.child);
    expect(JSON.parse(readFileSync(join(ws, 'serve.lock'), 'utf8')).pid).toBe(s2.child.pid);
    const killed = (await api(s2, `/api/jobs/${slowId}`)).body as {
      state: string;
      attempts: number;
      error: string | null;
    };
    // re-queued, and (as the queue is free) started again: attempt 2
    expect(['queued', 'running']).toContain(killed.state);
    for (
      let i = 0;
      i < 100 && ((await api(s2, `/api/jobs/${slowId}`)).body as { attempts: number }).attempts < 2;
      i++
    )
      await sleep(50);
    expect(((await api(s2, `/api/jobs/${slowId}`)).body as { attempts: number }).attempts).toBe(2);
    const earlier = (await api(s2, `/api/jobs/${fastId}`)).body as { state: string };
    expect(earlier.state).toBe('done');
    expect(((await api(s2, `/api/jobs/${fastId}/maps/overlay.png`)).body as Buffer).equals(overlay)).toBe(
      true,
    );
    const health = (await api(s2, '/api/health')).body as {
      jobs: { total: number };
      workspace: { integrity: string };
    };
    expect(health.jobs.total).toBe(2);
    expect(health.workspace.integrity).toBe('ok');
    expect((await postJson(s2, `/api/jobs/${slowId}/cancel`, {})).status).toBe(200);
    s2.child.kill('SIGTERM');
    await new Promise((r) => s2.child.once('exit', r));
    const db2 = new Database(join(ws, 'artprobe.db'), { readonly: true });
    expect(db2.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db2.prepare('SELECT state FROM jobs WHERE id = ?').get(slowId) as { state: string }).state).toBe(
      'cancelled',
    );
    db2.close();
  });
});
