/**
 * What the workspace's table modules share: id patterns, image extensions, atomic file writes, hashing and
 * the small JSON/time helpers every row mapping uses.
 *
 * @example
 * const id = checkId(req.id, UUID_RE, 'job');
 * await writeFileAtomic(join(root, 'catalogs', `${id}.json`), '[]');
 */
import { createHash, randomUUID } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Hex sha256: the id of a painting.
 *
 * @example
 * PAINTING_ID_RE.test(sha256Hex(bytes)); // true
 */
export const PAINTING_ID_RE = /^[0-9a-f]{64}$/;

/**
 * Server-made ids (jobs, annotations, catalogs).
 *
 * @example
 * UUID_RE.test(randomUUID()); // true
 */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * File extension of each accepted image format (sharp's names).
 *
 * @example
 * IMAGE_EXTS.jpeg; // 'jpg'
 */
export const IMAGE_EXTS: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  tiff: 'tif',
  gif: 'gif',
};

/**
 * Throws unless `id` matches `re` (defence in depth: routes validate ids by schema already).
 *
 * @example
 * const jobId = checkId(id, UUID_RE, 'job');
 */
export function checkId(id: string, re: RegExp, what: string): string {
  if (typeof id !== 'string' || !re.test(id)) throw new Error(`invalid ${what} id ${JSON.stringify(id)}`);
  return id;
}

/**
 * Writes a file atomically: a temp file next to it, fsync, rename.
 *
 * @example
 * await writeFileAtomic('/ws/catalogs/x.json', '{}');
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${randomUUID()}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * sha256 of bytes, hex.
 *
 * @example
 * sha256Hex('abc'); // 'ba7816bf…'
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The time stamp stored in `created_at` and friends: ISO 8601, UTC.
 *
 * @example
 * now(); // '2025-01-01T12:00:00.000Z'
 */
export const now = (): string => new Date().toISOString();

/**
 * A value as stored in a JSON TEXT column (`undefined` is stored as `null`).
 *
 * @example
 * json({ a: 1 }); // '{"a":1}'
 */
export const json = (v: unknown): string => JSON.stringify(v ?? null);

/**
 * A row as better-sqlite3 returns it: column name → value.
 *
 * @example
 * const r = stmt.get({ id }) as Row | undefined;
 */
export type Row = Record<string, unknown>;
