/**
 * Connections to Redis for batch runs: `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS) parsed
 * into ioredis options, a client that fails fast with a clear message when Redis cannot be reached, and a
 * throw-away `redis-server` for tests and benchmarks (127.0.0.1, a free port, its own folder, no persistence).
 *
 * @example
 * const redis = await connectRedis('redis://127.0.0.1:6379');
 * await redis.ping();
 * redis.disconnect();
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis options from a Redis URL; BullMQ's workers need `maxRetriesPerRequest: null`, which is set.
 *
 * @example
 * redisOptions('redis://:secret@10.0.0.5:6380/2'); // { host: '10.0.0.5', port: 6380, password: 'secret', db: 2, ... }
 */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL such as redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`--redis must start with redis:// or rediss://, got ${JSON.stringify(url)}`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new Error(`--redis: the database must be a number, got "${db}"`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * The URL without its password, for messages.
 *
 * @example
 * redactUrl('redis://:secret@h:6379'); // 'redis://:***@h:6379'
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Connects and pings; rejects within `timeoutMs` with a message naming the URL when Redis does not answer.
 *
 * @example
 * const redis = await connectRedis('redis://127.0.0.1:6379', { timeoutMs: 5000 });
 */
export async function connectRedis(url: string, opts: { timeoutMs?: number } = {}): Promise<Redis> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const redis = new Redis({ ...redisOptions(url), lazyConnect: true });
  redis.setMaxListeners(0); // BullMQ queues of many runs share this connection
  let lastError = '';
  redis.on('error', (e: Error) => {
    lastError = e.message;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('timed out')), timeoutMs);
      }),
    ]);
  } catch (e) {
    redis.disconnect();
    throw new Error(
      `cannot reach Redis at ${redactUrl(url)}: ${lastError || (e as Error).message} (is redis-server running there?)`,
    );
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/**
 * The `redis-server` executable: `$ARTPROBE_REDIS_SERVER` when set (and only it), else the PATH's; or undefined.
 *
 * @example
 * if (!findRedisServer()) console.warn('!!! SKIPPED: no redis-server');
 */
export function findRedisServer(): string | undefined {
  const explicit = process.env.ARTPROBE_REDIS_SERVER;
  const candidates = explicit
    ? [explicit]
    : ['redis-server', '/usr/sbin/redis-server', '/usr/bin/redis-server'];
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /Redis server/i.test(r.stdout)) return c;
  }
  return undefined;
}

/**
 * A free TCP port on 127.0.0.1 (free when asked; taken by the caller soon after).
 *
 * @example
 * const port = await freePort();
 */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

export interface LocalRedis {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away `redis-server` on 127.0.0.1 and a free port, in its own temporary folder, without
 * persistence (`--save '' --appendonly no`). For tests and benchmarks.
 *
 * @example
 * const r = await startLocalRedis();
 * // ... use r.url ...
 * await r.stop();
 */
export async function startLocalRedis(opts: { bin?: string } = {}): Promise<LocalRedis> {
  const bin = opts.bin ?? findRedisServer();
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'artprobe-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      bin,
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout?.on('data', (d) => {
      log += d;
    });
    child.stderr?.on('data', (d) => {
      log += d;
    });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const r = await connectRedis(url, { timeoutMs: 500 });
        r.disconnect();
        ready = true;
        break;
      } catch {
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    if (ready) {
      return {
        url,
        port,
        dir,
        stop: async () => {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(t);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start: ${log.trim().slice(-500)}`);
    }
  }
}
