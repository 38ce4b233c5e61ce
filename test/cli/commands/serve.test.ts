/**
 * `artprobe serve` as on a fresh clone: no model installed and no hub reachable. The server still starts on
 * 127.0.0.1, says how to install a model, and answers /api/health with the backend, model state and workspace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/shared-data.ts';

describe('artprobe serve with no model and no network', () => {
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, explains how to install a model, and reports its health', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/artprobe.mjs'), 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ARTPROBE_WORKSPACE: join(dir, 'ws'),
        ARTPROBE_MODELS: join(dir, 'models'),
        HF_ENDPOINT: 'http://127.0.0.1:9', // nothing listens on the discard port: the pull fails at once
      },
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 60_000);
        child.stdout.on('data', (d) => {
          out += d;
          const port = /port (\d+)/.exec(out)?.[1];
          if (port) {
            clearTimeout(timer);
            resolve(`http://127.0.0.1:${port}`);
          }
        });
        child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out} ${err}`)));
      });
      expect(out).toMatch(/127\.0\.0\.1/);
      // the pull of the default model fails; the server keeps serving and says what to do
      let health: { model: { state: string }; workspace: unknown; backend: unknown } | undefined;
      for (let i = 0; i < 100; i++) {
        health = await (await fetch(`${base}/api/health`)).json();
        if (health?.model.state === 'none' && /model pull|copy/i.test(out + err)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(health?.model.state).toBe('none');
      expect(JSON.stringify(health?.workspace)).toContain(join(dir, 'ws'));
      expect(health?.backend).toBeTruthy();
      expect(out + err).toMatch(/artprobe model pull|copy/i);
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
