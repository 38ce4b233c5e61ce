/**
 * A small Hugging Face hub on 127.0.0.1 for end-to-end tests of `artprobe model pull`. It serves folders as hub
 * repos in the hub's URL layout:
 *   GET /api/models/{owner}/{name}/revision/{rev}[?blobs=true]  -> { id, sha, siblings: [{ rfilename, size, blobId, lfs }] }
 *   GET|HEAD /{owner}/{name}/resolve/{rev}/{file}               -> small files directly (ETag = git blob sha1),
 *        LFS files (*.safetensors) as a 302 to a second "CDN" server on another port, with X-Linked-Etag (sha256),
 *        X-Linked-Size and X-Repo-Commit, like the real hub.
 * Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo). Range requests get 206.
 * `faults` can be changed between pulls: cut a transfer, corrupt a byte, ignore Range, answer 5xx.
 *
 * @example
 * const hub = await startFakeHub();       // serves golden/models/<name> as artprobe-test/<name>
 * await pullModel('artprobe-test/tiny-b32', { endpoint: hub.endpoint, modelsDir });
 * await hub.close();
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sharedPath } from './shared-data.ts';

/** A repo: a folder (optionally only some of its files) plus inline extra files. */
export interface FakeRepo {
  dir?: string;
  files?: string[];
  extra?: Record<string, string>;
}

/** Faults applied to file transfers; each `times` counts down per matching request. */
export interface FakeHubFaults {
  /** Destroy the socket after `bytes` bytes of the body of `file`. */
  cut?: { file: string; bytes: number; times: number };
  /** Serve `file` with the byte at `offset` flipped (always). */
  corrupt?: { file: string; offset: number };
  /** Answer range requests with the whole file and 200. */
  ignoreRange?: boolean;
  /** Answer requests whose path contains `pathIncludes` with `status`. */
  fail?: { pathIncludes: string; status: number; times: number };
}

/** One request the servers saw. */
export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status?: number;
}

interface Blob {
  name: string;
  data: Buffer;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

export interface FakeHub {
  endpoint: string;
  cdnOrigin: string;
  faults: FakeHubFaults;
  requests: LoggedRequest[];
  /** Commit sha a repo reports for `main`. */
  commitOf(repo: string): string;
  close(): Promise<void>;
}

const hashCache = new Map<string, Blob>();

function loadBlob(name: string, data: Buffer, key?: string): Blob {
  const cached = key ? hashCache.get(key) : undefined;
  if (cached) return cached;
  const blob: Blob = {
    name,
    data,
    sha256: createHash('sha256').update(data).digest('hex'),
    gitSha1: createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex'),
    lfs: name.endsWith('.safetensors'),
  };
  if (key) hashCache.set(key, blob);
  return blob;
}

/** Default repos: every folder of golden/models as artprobe-test/<name>. */
function goldenRepos(): Record<string, FakeRepo> {
  const root = sharedPath('golden', 'models');
  return Object.fromEntries(readdirSync(root).map((n) => [`artprobe-test/${n}`, { dir: join(root, n) }]));
}

/**
 * Starts the hub and its CDN on random ports of 127.0.0.1. `gated` maps a repo id to the token it requires.
 *
 * @example
 * const hub = await startFakeHub({ gated: { 'artprobe-test/tiny-b16': 'hf_ok' } });
 */
export async function startFakeHub(
  opts: { repos?: Record<string, FakeRepo>; gated?: Record<string, string> } = {},
): Promise<FakeHub> {
  const repos = { ...goldenRepos(), ...opts.repos };
  const blobsOf = new Map<string, Map<string, Blob>>();
  const byHash = new Map<string, Blob>();
  const repoBlobs = (id: string): Map<string, Blob> => {
    let m = blobsOf.get(id);
    if (!m) {
      const r = repos[id];
      const names = r.files ?? (r.dir ? readdirSync(r.dir).sort() : []);
      m = new Map(
        names.map((n) => [n, loadBlob(n, readFileSync(join(r.dir as string, n)), join(r.dir as string, n))]),
      );
      for (const [n, text] of Object.entries(r.extra ?? {})) m.set(n, loadBlob(n, Buffer.from(text)));
      for (const b of m.values()) byHash.set(b.sha256, b);
      blobsOf.set(id, m);
    }
    return m;
  };
  const commitOf = (id: string) => createHash('sha1').update(`commit:${id}`).digest('hex');
  const faults: FakeHubFaults = {};
  const requests: LoggedRequest[] = [];

  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, {
      'x-error-code': code,
      'x-error-message': message,
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ error: message }));
  };

  /** Sends a file body, honouring Range and the cut / corrupt faults. */
  const sendBlob = (req: IncomingMessage, res: ServerResponse, blob: Blob, extra: Record<string, string>) => {
    let data = blob.data;
    if (faults.corrupt?.file === blob.name) {
      data = Buffer.from(data);
      data[faults.corrupt.offset] ^= 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m && !faults.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` });
        return void res.end();
      }
      res.writeHead(206, {
        ...extra,
        'content-length': data.length - start,
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      });
    } else {
      res.writeHead(200, { ...extra, 'content-length': data.length, 'accept-ranges': 'bytes' });
    }
    if (req.method === 'HEAD') return void res.end();
    const body = data.subarray(start);
    const cut = faults.cut;
    if (cut && cut.file === blob.name && cut.times > 0 && cut.bytes < body.length) {
      cut.times--;
      res.write(body.subarray(0, cut.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  };

  const hubHandler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const match = api ?? resolve;
    if (!match) return fail(res, 404, 'NotFound', 'no such route');
    const [id, rev] = [match[1], decodeURIComponent(match[2])];
    if (!repos[id]) return fail(res, 404, 'RepoNotFound', 'Repository not found');
    const need = opts.gated?.[id];
    if (need && req.headers.authorization !== `Bearer ${need}`) {
      return fail(res, 401, 'GatedRepo', `Access to model ${id} is restricted. You must be authenticated.`);
    }
    if (rev !== 'main' && rev !== commitOf(id))
      return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const blobs = repoBlobs(id);
    const commit = { 'x-repo-commit': commitOf(id) };
    if (api) {
      const blobsParam = url.searchParams.get('blobs') === 'true';
      const siblings = [...blobs.values()].map((b) =>
        blobsParam
          ? {
              rfilename: b.name,
              size: b.data.length,
              blobId: b.gitSha1,
              ...(b.lfs ? { lfs: { sha256: b.sha256, size: b.data.length, pointerSize: 134 } } : {}),
            }
          : { rfilename: b.name },
      );
      res.writeHead(200, { ...commit, 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ id, modelId: id, sha: commitOf(id), siblings }));
    }
    const blob = blobs.get(decodeURIComponent(match[3]));
    if (!blob) return fail(res, 404, 'EntryNotFound', 'Entry not found');
    if (blob.lfs) {
      res.writeHead(302, {
        ...commit,
        location: `${cdnOrigin}/lfs/${blob.sha256}?sig=fake`,
        'x-linked-etag': `"${blob.sha256}"`,
        'x-linked-size': String(blob.data.length),
        etag: `"${blob.gitSha1}"`,
      });
      return void res.end();
    }
    sendBlob(req, res, blob, { ...commit, etag: `"${blob.gitSha1}"` });
  };

  const cdnHandler = (req: IncomingMessage, res: ServerResponse) => {
    const blob = byHash.get(/^\/lfs\/([0-9a-f]{64})/.exec(req.url ?? '')?.[1] ?? '');
    if (!blob) return fail(res, 404, 'NotFound', 'no such blob');
    sendBlob(req, res, blob, { etag: `"${blob.sha256}"` });
  };

  const serve = (server: 'hub' | 'cdn', handler: typeof hubHandler) =>
    http.createServer((req, res) => {
      const entry: LoggedRequest = {
        server,
        method: req.method ?? '',
        path: req.url ?? '',
        range: req.headers.range,
        authorization: req.headers.authorization,
      };
      requests.push(entry);
      res.on('finish', () => (entry.status = res.statusCode));
      const f = faults.fail;
      if (f && f.times > 0 && entry.path.includes(f.pathIncludes)) {
        f.times--;
        entry.status = f.status;
        return fail(res, f.status, 'Unavailable', 'try again later');
      }
      handler(req, res);
    });
  const listen = (s: http.Server) =>
    new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
  const hub = serve('hub', hubHandler);
  const cdn = serve('cdn', cdnHandler);
  const cdnOrigin = `http://127.0.0.1:${await listen(cdn)}`;
  const endpoint = `http://127.0.0.1:${await listen(hub)}`;
  const closeOne = (s: http.Server) =>
    new Promise<void>((r) => {
      s.closeAllConnections();
      s.close(() => r());
    });
  return {
    endpoint,
    cdnOrigin,
    faults,
    requests,
    commitOf,
    close: async () => {
      await Promise.all([closeOne(hub), closeOne(cdn)]);
    },
  };
}

/**
 * A URL on 127.0.0.1 where nothing listens (a port just released), for "hub unreachable" tests.
 *
 * @example
 * const endpoint = await unusedEndpoint(); // e.g. 'http://127.0.0.1:41234'
 */
export async function unusedEndpoint(): Promise<string> {
  const s = http.createServer();
  const port = await new Promise<number>((r) =>
    s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)),
  );
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
