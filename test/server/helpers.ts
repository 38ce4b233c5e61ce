/**
 * Helpers for server tests: multipart bodies for app.inject, a temp workspace, a local IIIF/image server.
 *
 * @example
 * const { payload, headers } = multipart([{ name: 'file', filename: 'a.png', content: bytes }]);
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Part {
  name: string;
  filename?: string;
  content: Uint8Array | string;
  contentType?: string;
}

/** A multipart/form-data body and its headers. */
export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----artprobe${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.filename !== undefined ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : ''}\r\n`,
      ),
    );
    chunks.push(Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** A tiny HTTP server on 127.0.0.1 answering from a route table. */
export async function startStaticServer(
  routes: Record<
    string,
    | { type: string; body: Buffer | string; status?: number }
    | ((base: string) => { type: string; body: Buffer | string; status?: number })
  >,
): Promise<{ base: string; close: () => Promise<void> }> {
  let base = '';
  const server = http.createServer((req, res) => {
    const r = routes[(req.url ?? '').split('?')[0]];
    const hit = typeof r === 'function' ? r(base) : r;
    if (!hit) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(hit.status ?? 200, { 'content-type': hit.type }).end(hit.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise((r) => server.close(() => r())) };
}
