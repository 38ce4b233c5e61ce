/**
 * Reads the one file of a multipart upload (field "file"), with the checks every upload route shares:
 * multipart content type, a file part named "file", a non-empty body. Size limits are enforced by
 * @fastify/multipart while reading.
 *
 * @example
 * const up = await readUpload(req, 'painting');
 * up.bytes; up.filename; up.field('name');
 */
import type { FastifyRequest } from 'fastify';
import { HttpError } from './jobs.ts';

export interface UploadedFile {
  bytes: Buffer;
  /** The client's file name (untrusted: only for display and format hints). */
  filename: string;
  /** A text field sent before the file, trimmed ('' when absent). */
  field(name: string): string;
}

export async function readUpload(req: FastifyRequest, what: string): Promise<UploadedFile> {
  if (!req.isMultipart())
    throw new HttpError(415, `upload the ${what} as multipart/form-data with a "file" field`);
  const part = await req.file();
  if (!part) throw new HttpError(400, 'the upload has no file part (field "file")');
  if (part.fieldname !== 'file')
    throw new HttpError(400, `unexpected file field "${part.fieldname}" (use "file")`);
  const bytes = await part.toBuffer();
  if (bytes.length === 0) throw new HttpError(400, `the uploaded ${what} file is empty`);
  return {
    bytes,
    filename: part.filename,
    field: (name) => {
      const f = part.fields[name] as { value?: unknown } | undefined;
      return typeof f?.value === 'string' ? f.value.trim() : '';
    },
  };
}
