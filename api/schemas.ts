// Shared response schemas: the error body every 4xx/5xx uses.
import { Type } from 'typebox';

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable machine-readable error code' }),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'ErrorBody' },
);

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  503: ErrorBody,
} as const;
