/**
 * Where batch results go: a folder (local, or shared between machines: NFS, SMB, a mounted bucket) or an
 * S3-compatible bucket (`s3://bucket/prefix`, through the AWS SDK). Both hold the `explain --out` layout: maps,
 * overlays and `manifest.json` at the top, plus the run's own files under `.batch/` and `runs/`.
 * Every write is whole or absent: a folder store writes a temporary file under `.batch/tmp/` and renames it
 * into place; an S3 PUT is atomic by nature.
 *
 * S3 settings come from the usual AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
 * profiles); an S3-compatible server is named by `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (path-style
 * addressing is then used, as MinIO, Ceph, Garage and s3rver expect).
 *
 * @example
 * const store = await openStore('s3://museum-maps/run-1');
 * await store.put('manifest.json', '{"model":"m","entries":[]}\n');
 * const files = await store.list('.batch/run-1/jobs/');
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** A place that holds files by relative path (`a/b.npy`, always with `/`). */
export interface ResultStore {
  /** `s3://bucket/prefix` or the absolute folder path. */
  readonly uri: string;
  /** The folder, for a folder store (readers such as `regions score` take a folder). */
  readonly localDir?: string;
  put(path: string, data: Uint8Array | string): Promise<void>;
  /** Stores a local file under `path` (moved or uploaded; the local file may be gone afterwards). */
  putFile(path: string, file: string): Promise<void>;
  /** The file's bytes, or undefined when there is none. */
  get(path: string): Promise<Uint8Array | undefined>;
  /** Relative paths of the files directly or indirectly under a folder prefix (ending in `/`). */
  list(prefix: string): Promise<string[]>;
  close(): void;
}

function checkRelative(path: string): string {
  if (!path || path.startsWith('/') || path.split('/').some((p) => p === '..' || p === ''))
    throw new Error(`store: bad relative path ${JSON.stringify(path)}`);
  return path;
}

/**
 * A folder (created when missing). Temporary files live in `.batch/tmp/`, so a worker killed mid-write leaves
 * no half-written file beside the maps.
 *
 * @example
 * const store = new FolderStore('/mnt/shared/maps');
 */
export class FolderStore implements ResultStore {
  readonly uri: string;
  readonly localDir: string;
  private readonly tmpDir: string;

  constructor(dir: string) {
    this.localDir = resolve(dir);
    this.uri = this.localDir;
    this.tmpDir = join(this.localDir, '.batch', 'tmp');
  }

  private async tmpName(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  private async place(tmp: string, path: string): Promise<void> {
    const target = join(this.localDir, checkRelative(path));
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
  }

  async put(path: string, data: Uint8Array | string): Promise<void> {
    checkRelative(path);
    const tmp = await this.tmpName();
    await writeFile(tmp, data);
    await this.place(tmp, path);
  }

  async putFile(path: string, file: string): Promise<void> {
    checkRelative(path);
    const tmp = await this.tmpName();
    try {
      await rename(file, tmp);
    } catch {
      await copyFile(file, tmp); // another file system
    }
    await this.place(tmp, path);
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.localDir, checkRelative(path))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const root = join(this.localDir, prefix);
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const n of names.sort()) {
        const s = await stat(join(dir, n));
        if (s.isDirectory()) await walk(join(dir, n), `${rel}${n}/`);
        else out.push(`${prefix}${rel}${n}`);
      }
    };
    await walk(root, '');
    return out;
  }

  /** Removes temporary files older than `maxAgeMs` (left by killed workers). */
  async sweepTmp(maxAgeMs = 3_600_000): Promise<number> {
    let n = 0;
    let names: string[] = [];
    try {
      names = await readdir(this.tmpDir);
    } catch {
      return 0;
    }
    for (const name of names) {
      const f = join(this.tmpDir, name);
      const s = await stat(f).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > maxAgeMs) {
        await rm(f, { force: true });
        n++;
      }
    }
    return n;
  }

  close(): void {}
}

/**
 * The parts of an `s3://bucket/prefix` URI.
 *
 * @example
 * parseS3Uri('s3://maps/run-1'); // { bucket: 'maps', prefix: 'run-1/' }
 */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m?.[1]) throw new Error(`--out: not an s3://bucket/prefix URI: ${JSON.stringify(uri)}`);
  const prefix = m[2].replace(/\/+$/, '');
  return { bucket: m[1], prefix: prefix ? `${prefix}/` : '' };
}

type S3Module = typeof import('@aws-sdk/client-s3');

/**
 * An S3-compatible bucket through `@aws-sdk/client-s3` (loaded only when used).
 *
 * @example
 * const store = await S3Store.open('s3://museum-maps/run-1');
 */
export class S3Store implements ResultStore {
  private constructor(
    readonly uri: string,
    private readonly s3: S3Module,
    private readonly client: InstanceType<S3Module['S3Client']>,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  /** Opens a bucket prefix; the endpoint and credentials come from the AWS environment. */
  static async open(uri: string): Promise<S3Store> {
    const { bucket, prefix } = parseS3Uri(uri);
    const s3 = await import('@aws-sdk/client-s3');
    const endpoint =
      process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || process.env.ARTPROBE_S3_ENDPOINT;
    const client = new s3.S3Client({
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      // S3-compatible servers differ in which checksums they accept; S3 itself needs none for these calls.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3Store(uri, s3, client, bucket, prefix);
  }

  async put(path: string, data: Uint8Array | string): Promise<void> {
    await this.client.send(
      new this.s3.PutObjectCommand({
        Bucket: this.bucket,
        Key: this.prefix + checkRelative(path),
        Body: typeof data === 'string' ? Buffer.from(data) : data,
      }),
    );
  }

  async putFile(path: string, file: string): Promise<void> {
    await this.put(path, await readFile(file));
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.client.send(
        new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + checkRelative(path) }),
      );
      return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new this.s3.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.prefix.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  close(): void {
    this.client.destroy();
  }
}

/**
 * Normalises an `--out` argument: `s3://…` stays, a folder becomes an absolute path.
 *
 * @example
 * normalizeStoreUri('out'); // '/abs/cwd/out'
 */
export function normalizeStoreUri(uri: string): string {
  if (/^s3:\/\//.test(uri)) {
    parseS3Uri(uri);
    return uri.replace(/\/+$/, '');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri))
    throw new Error(`--out: unsupported URI ${JSON.stringify(uri)} (use a folder or s3://bucket/prefix)`);
  return resolve(uri);
}

/**
 * Opens the store for an `--out` value: `s3://bucket/prefix` or a folder.
 *
 * @example
 * const store = await openStore('/mnt/shared/maps');
 */
export async function openStore(uri: string): Promise<ResultStore> {
  return /^s3:\/\//.test(uri) ? S3Store.open(uri) : new FolderStore(uri);
}
