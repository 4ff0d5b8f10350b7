// Schema validation as each part of a request needs it. Fastify's default Ajv coerces types and strips
// unknown properties everywhere; that is right for the URL (a query string or a path parameter is text:
// `?limit=20` must become 20) and wrong for a JSON body, where `{"tareKg": "3800"}` or a misspelt property
// is a client's mistake that should answer 400 rather than be silently repaired or dropped. Bodies are
// therefore validated as sent: no coercion, and `additionalProperties: false` rejects instead of removing.
import { Ajv, type Options } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

const common: Options = { useDefaults: true, allErrors: false, addUsedSchema: false, strict: false };

function ajv(options: Options): Ajv {
  const a = new Ajv({ ...common, ...options });
  formats.default(a); // CommonJS: under NodeNext the default import is module.exports, the plugin is its .default
  return a;
}

/** The compiler for `app.setValidatorCompiler`: routes registered afterwards (in any child context) use it. */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const body = ajv({ coerceTypes: false, removeAdditional: false });
  const url = ajv({ coerceTypes: 'array', removeAdditional: true });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : url).compile(schema as object);
}
