/**
 * One server per workspace: `serve.lock` in the workspace folder names the process that serves it (pid, host
 * name, start time). It is created exclusively; a lock left by a process that no longer runs (killed with
 * SIGKILL, machine restarted) is taken over, a live holder's is refused with a {@link WorkspaceLockedError}
 * that names its pid. Released when the server closes.
 *
 * @example
 * const lock = acquireWorkspaceLock('/data/ws'); // throws WorkspaceLockedError when another server runs
 * lock.release();
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * File name of the lock inside the workspace folder.
 *
 * @example
 * readFileSync(join(ws, LOCK_FILE), 'utf8'); // {"pid":1234,"host":"lab","startedAt":"…"}
 */
export const LOCK_FILE = 'serve.lock';

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * The workspace is served by another live process.
 *
 * @example
 * try { acquireWorkspaceLock(dir); } catch (e) { if (e instanceof WorkspaceLockedError) console.error(e.holder.pid); }
 */
export class WorkspaceLockedError extends Error {
  override name = 'WorkspaceLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `workspace ${dir} is already served by another artprobe server (pid ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, started ${holder.startedAt}); stop that server first, or start this one with another --workspace (if no such server runs, delete ${join(dir, LOCK_FILE)})`,
    );
  }
}

/** True when a process with this pid runs on this machine. */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof o.pid === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** A held lock. */
export interface WorkspaceLock {
  readonly file: string;
  readonly info: LockInfo;
  /** Removes the lock file (only when it is still this process's). */
  release(): void;
}

/**
 * Takes the workspace's lock, or throws {@link WorkspaceLockedError} naming the live holder. A stale lock (its
 * process is gone; on another host it is trusted, since its process cannot be checked) is replaced.
 *
 * @example
 * const lock = acquireWorkspaceLock(ws.root);
 * app.addHook('onClose', async () => lock.release());
 */
export function acquireWorkspaceLock(dir: string): WorkspaceLock {
  const file = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(file);
      if (holder && (holder.host !== info.host || alive(holder.pid)))
        throw new WorkspaceLockedError(dir, holder);
      // stale (or half-written by a process killed while writing it): take it over
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(info)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      file,
      info,
      release() {
        if (released) return;
        released = true;
        const now = readLock(file);
        if (now && now.pid === info.pid && now.startedAt === info.startedAt) rmSync(file, { force: true });
      },
    };
  }
  throw new Error(`could not take the lock ${file}; another server may be starting on this workspace`);
}
