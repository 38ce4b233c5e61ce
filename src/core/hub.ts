/**
 * Pulls CLIP models from the Hugging Face hub into the models folder, the way huggingface_hub does it:
 * list the repo at a revision (`/api/models/{repo}/revision/{rev}?blobs=true`, giving the commit, sizes and
 * LFS sha256), then GET `/{repo}/resolve/{commit}/{file}` for each file a CLIP needs (following the 302 to
 * the CDN for LFS files). Each file goes to `<file>.part`, is resumed with `Range` after a cut, verified
 * (size, sha256 or git blob sha1) and renamed; `artprobe-model.json` is written last.
 *
 * Endpoint from HF_ENDPOINT (default https://huggingface.co), token from HF_TOKEN, sent only to the endpoint's
 * origin (never after a redirect to another host, e.g. the CDN).
 *
 * @example
 * const { dir, commit } = await pullModel('openai/clip-vit-base-patch32', { quiet: true });
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import {
  defaultModelsDir,
  isModelComplete,
  type ModelFileRecord,
  type ModelFormat,
  modelDirFor,
  parseHubId,
  readModelMarker,
  writeModelMarker,
} from './model-folder.ts';

/** What went wrong, for callers that react differently (e.g. the server showing a login hint). */
export type HubErrorKind =
  | 'unreachable'
  | 'not-found'
  | 'revision-not-found'
  | 'entry-not-found'
  | 'auth'
  | 'gated'
  | 'integrity'
  | 'no-weights'
  | 'http';

/**
 * Error of a hub operation; the message says what to do next.
 *
 * @example
 * try { await pullModel(id); } catch (e) { if (e instanceof HubError && e.kind === 'gated') ... }
 */
export class HubError extends Error {
  constructor(
    message: string,
    readonly kind: HubErrorKind,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

/** A file of the repo listing (`siblings` with `blobs=true`). */
export interface HubSibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256: string; size: number };
}

/** Options of {@link pullModel}. */
export interface PullOptions {
  revision?: string;
  modelsDir?: string;
  /** Download again even when an identical copy is installed. */
  force?: boolean;
  /** No progress bar (it is also off when stderr is not a TTY). */
  quiet?: boolean;
  /** Defaults to env HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Defaults to env HF_TOKEN. */
  token?: string;
  /** Retries after a network error or 5xx/429 (default 4), waiting retryBaseMs * 2^k (default 500 ms, max 8 s). */
  retries?: number;
  retryBaseMs?: number;
  /** Idle socket timeout in ms (default 30 000). */
  timeoutMs?: number;
  /** Called after each chunk with bytes done / total for this pull. */
  onProgress?: (done: number, total: number, file: string) => void;
}

/** Result of {@link pullModel}. */
export interface PullResult {
  id: string;
  dir: string;
  revision: string;
  commit: string;
  format: ModelFormat;
  files: ModelFileRecord[];
  /** Bytes received over the network in this pull. */
  downloadedBytes: number;
  /** True when an identical complete copy was already installed and nothing was fetched. */
  upToDate: boolean;
}

interface Ctx {
  endpoint: URL;
  token?: string;
  retries: number;
  retryBaseMs: number;
  timeoutMs: number;
}

const TOKENIZER_FILES = [
  'vocab.json',
  'merges.txt',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
];
const HF_SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Network errors where the host answered nothing at all: no point retrying, the hub is unreachable. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Files a CLIP needs, for the manual-copy instructions when the listing itself failed. */
const MANUAL_FILES =
  'config.json, preprocessor_config.json, vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json ' +
  '(and tokenizer.json if the repo has it) and model.safetensors; for an OpenCLIP-only repo ' +
  'open_clip_config.json and open_clip_model.safetensors instead of config.json and model.safetensors';

/**
 * Picks the files a CLIP needs from a repo listing: configs, tokenizer files and safetensors weights, preferring
 * the transformers layout (model.safetensors) over OpenCLIP's (open_clip_model.safetensors), and a single file over
 * shards. Never .bin/.msgpack/.h5/.onnx. Throws a 'no-weights' HubError when there are no safetensors weights.
 *
 * @example
 * selectClipFiles('openai/clip-vit-base-patch32', siblings); // { format: 'hf', files: [config.json, ..., model.safetensors] }
 */
export function selectClipFiles(
  id: string,
  siblings: HubSibling[],
): { format: ModelFormat; files: HubSibling[] } {
  const top = new Map(siblings.filter((s) => !s.rfilename.includes('/')).map((s) => [s.rfilename, s]));
  const present = (names: string[]) => names.filter((n) => top.has(n));
  const tokenizer = present(TOKENIZER_FILES);
  let format: ModelFormat;
  let names: string[];
  const shards = [...top.keys()].filter((n) => HF_SHARD_RE.test(n)).sort();
  if (top.has('config.json') && top.has('model.safetensors')) {
    format = 'hf';
    names = ['config.json', ...present(['preprocessor_config.json']), ...tokenizer, 'model.safetensors'];
  } else if (top.has('open_clip_config.json') && top.has('open_clip_model.safetensors')) {
    format = 'open_clip';
    names = [
      'open_clip_config.json',
      ...present(['preprocessor_config.json']),
      ...tokenizer,
      'open_clip_model.safetensors',
    ];
  } else if (top.has('config.json') && top.has('model.safetensors.index.json') && shards.length > 0) {
    format = 'hf';
    names = [
      'config.json',
      ...present(['preprocessor_config.json']),
      ...tokenizer,
      'model.safetensors.index.json',
      ...shards,
    ];
  } else {
    const weights = [...top.keys()].filter((n) => /\.(bin|pt|pth|msgpack|h5|onnx|ckpt|safetensors)$/.test(n));
    throw new HubError(
      `${id} has no usable safetensors weights (need config.json + model.safetensors, or open_clip_config.json + ` +
        `open_clip_model.safetensors; found weights: ${weights.join(', ') || 'none'}). artprobe never loads ` +
        '.bin/.msgpack/.h5/.onnx files; convert the checkpoint to safetensors and use the local folder instead.',
      'no-weights',
    );
  }
  return { format, files: names.map((n) => top.get(n) as HubSibling) };
}

function isHexSha256(s: string | undefined): s is string {
  return !!s && /^[0-9a-f]{64}$/.test(s);
}

/** ETag / X-Linked-Etag without weak prefix and quotes. */
function normalizeEtag(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.replace(/^W\//, '').replace(/^"|"$/g, '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One HTTP request (no redirect handling); resolves with the response head, the body still unread. */
function sendOnce(
  ctx: Ctx,
  url: URL,
  method: string,
  headers: Record<string, string>,
): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers, agent: false }, resolvePromise);
    req.setTimeout(ctx.timeoutMs, () => {
      const err = Object.assign(new Error(`no data from ${url.host} for ${ctx.timeoutMs} ms`), {
        code: 'ETIMEDOUT',
      });
      req.destroy(err);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request that follows redirects; the token goes only to the endpoint's origin. Returns the headers of every hop. */
async function open(
  ctx: Ctx,
  start: URL,
  headers: Record<string, string> = {},
): Promise<{ res: IncomingMessage; hops: IncomingHttpHeaders[] }> {
  let url = start;
  const hops: IncomingHttpHeaders[] = [];
  for (let i = 0; i <= 10; i++) {
    const h: Record<string, string> = {
      'user-agent': 'artprobe/0.1',
      'accept-encoding': 'identity',
      ...headers,
    };
    if (ctx.token && url.origin === ctx.endpoint.origin) h.authorization = `Bearer ${ctx.token}`;
    const res = await sendOnce(ctx, url, 'GET', h);
    hops.push(res.headers);
    if (!REDIRECTS.has(res.statusCode ?? 0) || !res.headers.location) return { res, hops };
    res.resume();
    const next = new URL(res.headers.location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HubError(`refusing redirect from ${url.host} to ${next.protocol} URL`, 'http');
    }
    if (url.protocol === 'https:' && next.protocol === 'http:') {
      throw new HubError(`refusing redirect from https to plain http (${next.host})`, 'http');
    }
    url = next;
  }
  throw new HubError(`too many redirects starting at ${start.href}`, 'http');
}

async function readBody(res: IncomingMessage, limit = 8 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > limit) throw new HubError('response from the hub is too large', 'http');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Marks an error as worth retrying (5xx, 429, connection reset, timeout, cut transfer). */
class TransientError extends Error {}

/** Maps a non-2xx hub response to a HubError (huggingface_hub's X-Error-Code rules) or a TransientError. */
async function raiseForStatus(
  ctx: Ctx,
  res: IncomingMessage,
  what: string,
  id: string,
  rev: string,
): Promise<void> {
  const status = res.statusCode ?? 0;
  if (status < 400 && status >= 200) return;
  const code = res.headers['x-error-code'];
  const serverMsg =
    res.headers['x-error-message'] ?? (await readBody(res, 1 << 16).catch(() => '')).slice(0, 300);
  const detail = serverMsg ? ` (server: ${String(serverMsg).trim()})` : '';
  if (status >= 500 || status === 429) throw new TransientError(`HTTP ${status} for ${what}${detail}`);
  if (code === 'GatedRepo') {
    throw new HubError(
      `${id} is a gated repo (HTTP ${status}): accept its conditions on the hub page, then set HF_TOKEN to an ` +
        `access token of that account (https://huggingface.co/settings/tokens)${detail}`,
      'gated',
      status,
    );
  }
  if (code === 'RevisionNotFound') {
    throw new HubError(`revision "${rev}" not found in ${id} (HTTP ${status})`, 'revision-not-found', status);
  }
  if (code === 'EntryNotFound') {
    throw new HubError(`${what} not found in ${id}@${rev} (HTTP ${status})`, 'entry-not-found', status);
  }
  if (code === 'RepoNotFound' || status === 404 || status === 401) {
    const hint = ctx.token ? '' : '; if it is private or gated, set HF_TOKEN to an access token';
    throw new HubError(
      `repository ${id} not found on the hub (HTTP ${status})${hint}${detail}`,
      'not-found',
      status,
    );
  }
  if (status === 403) {
    throw new HubError(
      `access to ${id} denied (HTTP 403): check that HF_TOKEN has read access to it${detail}`,
      'auth',
      status,
    );
  }
  throw new HubError(`HTTP ${status} for ${what}${detail}`, 'http', status);
}

function isTransientNetworkError(e: unknown): boolean {
  if (e instanceof TransientError) return true;
  const code = (e as { code?: string })?.code;
  if (code && UNREACHABLE_CODES.has(code)) return false;
  return (
    (!!code &&
      [
        'ECONNRESET',
        'ETIMEDOUT',
        'EPIPE',
        'ECONNABORTED',
        'ERR_STREAM_PREMATURE_CLOSE',
        'UND_ERR_SOCKET',
      ].includes(code)) ||
    /aborted|socket hang up|premature/i.test((e as Error)?.message ?? '')
  );
}

function isUnreachable(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return !!code && UNREACHABLE_CODES.has(code);
}

/** Runs fn, retrying transient failures with exponential backoff. */
async function withRetries<T>(ctx: Ctx, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isTransientNetworkError(e) || attempt >= ctx.retries) throw e;
      await sleep(Math.min(8000, ctx.retryBaseMs * 2 ** attempt));
    }
  }
}

/** The error shown when the hub cannot be reached: what failed and how to copy the files in by hand. */
function unreachableError(
  ctx: Ctx,
  id: string,
  dir: string,
  revision: string,
  cause: unknown,
  files?: string[],
): HubError {
  const reason = (cause as { code?: string })?.code ?? (cause as Error)?.message ?? String(cause);
  const which = files ? files.join(', ') : MANUAL_FILES;
  return new HubError(
    `the Hugging Face hub could not be reached at ${ctx.endpoint.origin} (${reason}) while pulling ${id}.\n` +
      `To install it by hand, download these files of ${id} (revision ${revision}) on a machine with internet ` +
      `access, e.g. from https://huggingface.co/${id}/tree/${revision}:\n  ${which}\n` +
      `and copy them into the folder\n  ${dir}/\n` +
      `Then \`artprobe model list\` shows it and it can be used as ${id}. ` +
      '(Set HF_ENDPOINT to use a mirror.)',
    'unreachable',
  );
}

/**
 * Lists a repo at a revision: the commit sha and the files with sizes and LFS sha256.
 *
 * @example
 * const { sha, siblings } = await listRepoFiles('openai/clip-vit-base-patch32', 'main');
 */
export async function listRepoFiles(
  id: string,
  revision = 'main',
  opts: Pick<PullOptions, 'endpoint' | 'token' | 'retries' | 'retryBaseMs' | 'timeoutMs'> = {},
): Promise<{ sha: string; siblings: HubSibling[] }> {
  return listWith(makeCtx(opts), parseHubId(id).id, revision);
}

async function listWith(
  ctx: Ctx,
  id: string,
  revision: string,
): Promise<{ sha: string; siblings: HubSibling[] }> {
  const url = new URL(`/api/models/${id}/revision/${encodeURIComponent(revision)}?blobs=true`, ctx.endpoint);
  return withRetries(ctx, async () => {
    const { res } = await open(ctx, url, { accept: 'application/json' });
    await raiseForStatus(ctx, res, `the file list of ${id}`, id, revision);
    const body = await readBody(res);
    let info: { sha?: string; siblings?: HubSibling[] };
    try {
      info = JSON.parse(body);
    } catch {
      throw new HubError(
        `the hub's file list for ${id} is not JSON (is HF_ENDPOINT right? ${ctx.endpoint.origin})`,
        'http',
      );
    }
    if (!Array.isArray(info.siblings))
      throw new HubError(`the hub's answer for ${id} has no file list`, 'http');
    return { sha: info.sha ?? revision, siblings: info.siblings };
  });
}

function makeCtx(opts: PullOptions): Ctx {
  const raw = opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co';
  let endpoint: URL;
  try {
    endpoint = new URL(raw.replace(/\/+$/, ''));
  } catch {
    throw new HubError(`HF_ENDPOINT is not a URL: "${raw}"`, 'http');
  }
  return {
    endpoint,
    token: opts.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN ?? undefined,
    retries: opts.retries ?? 4,
    retryBaseMs: opts.retryBaseMs ?? 500,
    timeoutMs: opts.timeoutMs ?? 30_000,
  };
}

/** Progress over all bytes of a pull: a cli-progress bar on stderr when it is a TTY and not quiet. */
function createProgress(total: number, quiet: boolean | undefined, onProgress: PullOptions['onProgress']) {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const bar =
    !quiet && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: '{bar} {percentage}% | {done}/{all} | {rate} | {file}',
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const t0 = Date.now();
  let done = 0;
  bar?.start(total, 0, { done: mb(0), all: mb(total), rate: '-', file: '' });
  return {
    add(n: number, file: string) {
      done += n;
      const rate = `${mb(done / Math.max(1e-3, (Date.now() - t0) / 1000))}/s`;
      bar?.update(done, { done: mb(done), all: mb(total), rate, file });
      onProgress?.(done, total, file);
    },
    stop: () => bar?.stop(),
  };
}

interface Expected {
  name: string;
  size?: number;
  sha256?: string;
  gitSha1?: string;
}

async function hashFilePrefix(path: string, bytes: number, hashes: Hash[]): Promise<void> {
  if (bytes === 0) return;
  for await (const c of createReadStream(path, { start: 0, end: bytes - 1 }))
    for (const h of hashes) h.update(c as Buffer);
}

/**
 * Downloads one file to `<dir>/<name>.part`, resuming what is there with a Range request, and verifies it.
 * Returns its record (size, sha256) and the bytes received.
 */
async function downloadFile(
  ctx: Ctx,
  repo: { id: string; commit: string },
  url: URL,
  dir: string,
  exp: Expected,
  progress: ReturnType<typeof createProgress>,
): Promise<{ record: ModelFileRecord; received: number }> {
  const part = join(dir, `${exp.name}.part`);
  let received = 0;
  let freshRetry = false;
  for (;;) {
    let resumed = false;
    const result = await withRetries(ctx, async () => {
      let have = (await stat(part).catch(() => null))?.size ?? 0;
      if (exp.size !== undefined && have > exp.size) {
        await truncate(part, 0);
        have = 0;
      }
      let sha256 = createHash('sha256');
      let sha1 =
        exp.gitSha1 && exp.size !== undefined ? createHash('sha1').update(`blob ${exp.size}\0`) : undefined;
      const restart = async () => {
        await truncate(part, 0).catch(() => undefined);
        have = 0;
        sha256 = createHash('sha256');
        sha1 =
          exp.gitSha1 && exp.size !== undefined ? createHash('sha1').update(`blob ${exp.size}\0`) : undefined;
      };
      let linked: { sha256?: string; size?: number } = {};
      if (!(exp.size !== undefined && have === exp.size && have > 0)) {
        const { res, hops } = await open(ctx, url, have > 0 ? { range: `bytes=${have}-` } : {});
        const first = hops[0];
        const le = normalizeEtag(first['x-linked-etag']) ?? normalizeEtag(first.etag);
        const ls = first['x-linked-size'] ? Number(first['x-linked-size']) : undefined;
        linked = { sha256: isHexSha256(le) ? le : undefined, size: ls };
        if (res.statusCode === 416) {
          res.resume();
          await restart();
          throw new TransientError('server refused the resume range');
        }
        await raiseForStatus(ctx, res, exp.name, repo.id, repo.commit);
        if (have > 0 && res.statusCode === 206) {
          const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
          if (!m || Number(m[1]) !== have) {
            res.resume();
            await restart();
            throw new TransientError(`bad Content-Range "${res.headers['content-range']}"`);
          }
          resumed = true;
        } else if (have > 0) {
          await restart(); // server ignored Range (200): start over
        }
        await hashFilePrefix(part, have, sha1 ? [sha256, sha1] : [sha256]);
        const expectLen = res.headers['content-length'] ? Number(res.headers['content-length']) : undefined;
        let got = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sha256.update(chunk);
            sha1?.update(chunk);
            got += chunk.length;
            received += chunk.length;
            progress.add(chunk.length, exp.name);
            cb(null, chunk);
          },
        });
        await pipeline(res, tap, createWriteStream(part, { flags: have > 0 ? 'a' : 'w' }));
        if (expectLen !== undefined && got !== expectLen) {
          throw new TransientError(`transfer of ${exp.name} cut short: ${got} of ${expectLen} bytes`);
        }
      } else {
        await hashFilePrefix(part, have, sha1 ? [sha256, sha1] : [sha256]);
        resumed = true;
      }
      return { sha256: sha256.digest('hex'), sha1: sha1?.digest('hex'), linked };
    });
    const size = (await stat(part)).size;
    const wantSize = exp.size ?? result.linked.size;
    const wantSha = exp.sha256 ?? result.linked.sha256;
    let problem = '';
    if (wantSize !== undefined && size !== wantSize) problem = `size ${size} bytes, expected ${wantSize}`;
    else if (wantSha && result.sha256 !== wantSha)
      problem = `sha256 mismatch: got ${result.sha256}, expected ${wantSha}`;
    else if (!wantSha && exp.gitSha1 && result.sha1 !== exp.gitSha1) {
      problem = `git blob sha1 mismatch: got ${result.sha1}, expected ${exp.gitSha1}`;
    }
    if (!problem) return { record: { name: exp.name, size, sha256: result.sha256 }, received };
    await rm(part, { force: true });
    // A resumed file may have had a stale prefix (e.g. from an older revision): try once from scratch.
    if (resumed && !freshRetry) {
      freshRetry = true;
      continue;
    }
    throw new HubError(
      `download of ${exp.name} is corrupt (${problem}); nothing was installed, run the pull again`,
      'integrity',
    );
  }
}

/**
 * Pulls a CLIP from the hub into `<modelsDir>/<owner>--<name>/`. Only the files a CLIP needs are fetched
 * ({@link selectClipFiles}). Files already installed with the same sha256 are kept unless `force`. An installed
 * model is only replaced once every new file has been downloaded and verified, so a failed pull leaves it intact.
 *
 * @example
 * const r = await pullModel('openai/clip-vit-base-patch32', { revision: 'main' });
 * console.log(r.dir, r.commit, r.downloadedBytes);
 */
export async function pullModel(hubId: string, opts: PullOptions = {}): Promise<PullResult> {
  const { id } = parseHubId(hubId);
  const revision = opts.revision ?? 'main';
  const modelsDir = defaultModelsDir(opts.modelsDir);
  const dir = modelDirFor(id, modelsDir);
  const ctx = makeCtx(opts);
  if (process.env.HF_HUB_OFFLINE === '1') {
    throw unreachableError(ctx, id, dir, revision, new Error('offline mode: HF_HUB_OFFLINE=1'));
  }
  const previous = (await isModelComplete(dir)) ? await readModelMarker(dir) : null;

  let listing: { sha: string; siblings: HubSibling[] };
  try {
    listing = await listWith(ctx, id, revision);
  } catch (e) {
    if (e instanceof HubError) throw e;
    if (isUnreachable(e) || isTransientNetworkError(e)) throw unreachableError(ctx, id, dir, revision, e);
    throw e;
  }
  const { format, files } = selectClipFiles(id, listing.siblings);
  const expected: Expected[] = files.map((s) => ({
    name: s.rfilename,
    size: s.lfs?.size ?? s.size,
    sha256: isHexSha256(s.lfs?.sha256) ? s.lfs?.sha256 : undefined,
    gitSha1: !s.lfs && s.blobId && /^[0-9a-f]{40}$/.test(s.blobId) ? s.blobId : undefined,
  }));

  // Files an installed copy already has with the same content (when the hub states the sha256 or it is the same commit).
  const keep = new Map<string, ModelFileRecord>();
  if (previous && !opts.force) {
    for (const e of expected) {
      const old = previous.files.find((f) => f.name === e.name);
      const same =
        old && old.size === e.size && (e.sha256 ? old.sha256 === e.sha256 : previous.commit === listing.sha);
      if (old && same) keep.set(e.name, old);
    }
  }
  const todo = expected.filter((e) => !keep.has(e.name));
  if (todo.length === 0 && previous?.commit === listing.sha) {
    return {
      id,
      dir,
      revision,
      commit: listing.sha,
      format,
      files: previous.files,
      downloadedBytes: 0,
      upToDate: true,
    };
  }

  await mkdir(dir, { recursive: true });
  const total = todo.reduce((a, e) => a + (e.size ?? 0), 0);
  const progress = createProgress(total, opts.quiet, opts.onProgress);
  const records = new Map(keep);
  let downloadedBytes = 0;
  try {
    for (const e of todo) {
      const path = e.name.split('/').map(encodeURIComponent).join('/');
      const url = new URL(`/${id}/resolve/${encodeURIComponent(listing.sha)}/${path}`, ctx.endpoint);
      const { record, received } = await downloadFile(
        ctx,
        { id, commit: listing.sha },
        url,
        dir,
        e,
        progress,
      );
      records.set(e.name, record);
      downloadedBytes += received;
    }
  } catch (e) {
    if (isUnreachable(e) || isTransientNetworkError(e)) {
      throw unreachableError(
        ctx,
        id,
        dir,
        revision,
        e,
        expected.map((x) => x.name),
      );
    }
    throw e;
  } finally {
    progress.stop();
  }

  // Swap in: drop the marker first (the folder is no longer "complete"), move files, write the marker last.
  await rm(join(dir, 'artprobe-model.json'), { force: true });
  for (const e of todo) await rename(join(dir, `${e.name}.part`), join(dir, e.name));
  for (const old of previous?.files ?? []) {
    if (!records.has(old.name)) await rm(join(dir, old.name), { force: true });
  }
  const list = expected.map((e) => records.get(e.name) as ModelFileRecord);
  await writeModelMarker(dir, {
    id,
    revision,
    commit: listing.sha,
    endpoint: ctx.endpoint.origin,
    format,
    files: list,
    pulledAt: new Date().toISOString(),
  });
  return { id, dir, revision, commit: listing.sha, format, files: list, downloadedBytes, upToDate: false };
}
