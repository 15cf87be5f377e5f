/**
 * The v4 envelope and the error the double's handlers throw. Every response, success or failure,
 * goes out in this envelope: the SDK unwraps `result` and keys its error classes off the status.
 */

export interface ErrorDetail {
  code: number;
  message: string;
  error_chain?: Array<{ code: number; message: string }>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly extra: Omit<ErrorDetail, 'code' | 'message'> = {},
    /** Response headers that belong to this failure (e.g. retry-after on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  detail(): ErrorDetail {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

export function successEnvelope(result: unknown, resultInfo?: ResultInfo): Record<string, unknown> {
  const body: Record<string, unknown> = { success: true, errors: [], messages: [], result };
  if (resultInfo) body.result_info = resultInfo;
  return body;
}

export function failureEnvelope(errors: ErrorDetail[]): Record<string, unknown> {
  return { success: false, errors, messages: [], result: null };
}

export const notFoundRoute = (): ApiError => new ApiError(404, 7000, 'No route for that URI');

export const unroutableObject = (path: string): ApiError => new ApiError(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);

/** `page`/`per_page` slicing shared by both list endpoints; pages past the end are empty, never an error. */
export function paginate<T>(items: T[], query: URLSearchParams, defaults: { perPage: number; maxPerPage: number }): { page: T[]; info: ResultInfo } {
  const page = Math.max(1, Math.floor(Number(query.get('page') ?? '1')) || 1);
  const requested = Math.floor(Number(query.get('per_page') ?? String(defaults.perPage))) || defaults.perPage;
  const perPage = Math.min(Math.max(1, requested), defaults.maxPerPage);
  const start = (page - 1) * perPage;
  const slice = items.slice(start, start + perPage);
  return {
    page: slice,
    info: {
      page,
      per_page: perPage,
      count: slice.length,
      total_count: items.length,
      total_pages: Math.ceil(items.length / perPage),
    },
  };
}
