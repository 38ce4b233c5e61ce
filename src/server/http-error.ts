/**
 * The error routes throw to answer with an HTTP status (and optional headers, e.g. Retry-After). In a module of
 * its own, without imports, so that worker threads can use it too.
 *
 * @example
 * throw new HttpError(404, `painting ${id} not found`);
 * throw new HttpError(503, 'the model is busy', { 'retry-after': '5' });
 */

/**
 * An error with an HTTP status (and optional response headers, e.g. Retry-After), for the routes.
 *
 * @example
 * throw new HttpError(413, 'the upload is above the limit of 50 MB');
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
