// One error type for the API: a stable code the clients and tests rely on, and an HTTP status.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = (message = 'a valid Bearer credential is required') => new ApiError(401, 'UNAUTHORIZED', message);
export const forbidden = (message = 'your role may not do this') => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (code: string, message: string) => new ApiError(404, code, message);
