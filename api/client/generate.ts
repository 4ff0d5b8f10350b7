// OpenAPI 3 document → TypeScript `paths` / `components` types in the layout openapi-fetch reads. A small
// generator of our own: openapi-typescript needs the TypeScript 5 compiler API, which TypeScript 7 lacks.
type Schema = Record<string, unknown>;
type Doc = { paths?: Record<string, Record<string, unknown>>; components?: { schemas?: Record<string, Schema> } };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const key = (k: string) => (IDENT.test(k) || /^[1-5][0-9][0-9]$/.test(k) ? k : JSON.stringify(k));
const pad = (depth: number) => '  '.repeat(depth);

function literal(v: unknown): string {
  return v === null ? 'null' : JSON.stringify(v);
}

function doc(s: Schema, depth: number): string {
  const text = [s.description, s.format && `format: ${String(s.format)}`].filter(Boolean).join('; ');
  return text ? `${pad(depth)}/** ${String(text).replace(/\*\//g, '*\\/').replace(/\n/g, ' ')} */\n` : '';
}

/** One JSON Schema (the subset TypeBox and @fastify/swagger produce) as a TypeScript type. */
export function schemaType(s: unknown, depth = 0): string {
  if (s === true || s === undefined || s === null || typeof s !== 'object') return 'unknown';
  const schema = s as Schema;
  if (typeof schema['x-ts'] === 'string') return schema['x-ts'];
  const nullable = schema.nullable === true ? ' | null' : '';
  if (typeof schema.$ref === 'string') return `components["schemas"][${JSON.stringify(schema.$ref.split('/').pop())}]${nullable}`;
  if ('const' in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ') + (schema.enum.includes(null) ? '' : nullable);
  for (const combo of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[combo])) return `(${(schema[combo] as unknown[]).map((x) => schemaType(x, depth)).join(' | ')})${nullable}`;
  }
  if (Array.isArray(schema.allOf)) return `(${(schema.allOf as unknown[]).map((x) => schemaType(x, depth)).join(' & ')})`;
  if (Array.isArray(schema.type)) return (schema.type as string[]).map((t) => schemaType({ ...schema, type: t }, depth)).join(' | ');
  switch (schema.type) {
    case 'string':
      return `string${nullable}`;
    case 'number':
    case 'integer':
      return `number${nullable}`;
    case 'boolean':
      return `boolean${nullable}`;
    case 'null':
      return 'null';
    case 'array':
      return `${wrap(schemaType(schema.items, depth))}[]${nullable}`;
    case 'object':
    case undefined: {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set((schema.required ?? []) as string[]);
      const extra = schema.additionalProperties;
      const lines = Object.entries(props).map(
        ([k, v]) => `${doc(v, depth + 1)}${pad(depth + 1)}${key(k)}${required.has(k) ? '' : '?'}: ${schemaType(v, depth + 1)};`,
      );
      const patterns = Object.values((schema.patternProperties ?? {}) as Record<string, Schema>);
      if (extra && extra !== false) lines.push(`${pad(depth + 1)}[key: string]: ${extra === true ? 'unknown' : schemaType(extra, depth + 1)};`);
      else if (patterns.length) lines.push(`${pad(depth + 1)}[key: string]: ${patterns.map((p) => schemaType(p, depth + 1)).join(' | ')};`);
      if (lines.length === 0) return schema.type === 'object' && extra !== false ? `Record<string, unknown>${nullable}` : schema.type ? `Record<string, never>${nullable}` : 'unknown';
      return `{\n${lines.join('\n')}\n${pad(depth)}}${nullable}`;
    }
    default:
      return 'unknown';
  }
}

const wrap = (t: string) => (/^[\w."[\]]+$/.test(t) ? t : `(${t})`);

function parametersType(params: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>, depth: number): string {
  const groups = ['query', 'header', 'path', 'cookie'].map((where) => {
    const list = params.filter((p) => p.in === where);
    if (list.length === 0) return `${pad(depth + 1)}${where}?: never;`;
    const allOptional = list.every((p) => !p.required);
    const body = list.map((p) => `${pad(depth + 2)}${key(p.name)}${p.required ? '' : '?'}: ${schemaType(p.schema, depth + 2)};`).join('\n');
    return `${pad(depth + 1)}${where}${allOptional ? '?' : ''}: {\n${body}\n${pad(depth + 1)}};`;
  });
  return `{\n${groups.join('\n')}\n${pad(depth)}}`;
}

function contentType(content: Record<string, { schema?: Schema }> | undefined, depth: number): string {
  if (!content || Object.keys(content).length === 0) return 'never';
  const lines = Object.entries(content).map(([mime, c]) => `${pad(depth + 1)}${JSON.stringify(mime)}: ${schemaType(c.schema, depth + 1)};`);
  return `{\n${lines.join('\n')}\n${pad(depth)}}`;
}

function operationType(op: Record<string, unknown>, shared: unknown[], depth: number, multipart: boolean): string {
  const params = [...shared, ...((op.parameters ?? []) as unknown[])] as Parameters<typeof parametersType>[0];
  const body = op.requestBody as { required?: boolean; content?: Record<string, { schema?: Schema }> } | undefined;
  if (multipart && !body) {
    return operationType({ ...op, requestBody: { required: true, content: { 'multipart/form-data': { schema: { 'x-ts': 'FormData' } } } } }, shared, depth, false);
  }
  const responses = Object.entries((op.responses ?? {}) as Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>).map(
    ([status, r]) =>
      `${pad(depth + 2)}${key(status)}: {\n${pad(depth + 3)}headers: { [name: string]: unknown };\n${pad(depth + 3)}content: ${contentType(r.content, depth + 3)};\n${pad(depth + 2)}};`,
  );
  return (
    `{\n` +
    `${pad(depth + 1)}parameters: ${parametersType(params, depth + 1)};\n` +
    `${pad(depth + 1)}requestBody${body?.required ? '' : '?'}: ${body ? `{\n${pad(depth + 2)}content: ${contentType(body.content, depth + 2)};\n${pad(depth + 1)}}` : 'never'};\n` +
    `${pad(depth + 1)}responses: {\n${responses.join('\n')}\n${pad(depth + 1)}};\n` +
    `${pad(depth)}}`
  );
}

/**
 * The whole module text. `multipart` names operations (`post /v1/scans`) whose body is multipart/form-data:
 * @fastify/multipart routes carry no body schema, so the document cannot say so itself.
 */
export function generateClientTypes(document: Doc, multipart: readonly string[] = []): string {
  const out: string[] = [
    '// Generated by `npm run client:gen` from the API\'s OpenAPI document (api/client/generate.ts). Do not edit.',
    '/* eslint-disable */',
    '',
    'export interface paths {',
  ];
  for (const [path, item] of Object.entries(document.paths ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`  ${JSON.stringify(path)}: {`);
    const shared = (item.parameters ?? []) as unknown[];
    for (const method of METHODS) {
      const op = item[method] as Record<string, unknown> | undefined;
      if (op && typeof op.summary === 'string') out.push(`    /** ${op.summary.replace(/\*\//g, '*\\/')} */`);
      out.push(op ? `    ${method}: ${operationType(op, shared, 2, multipart.includes(`${method} ${path}`))};` : `    ${method}?: never;`);
    }
    out.push('  };');
  }
  out.push('}', '', 'export interface components {', '  schemas: {');
  for (const [name, s] of Object.entries(document.components?.schemas ?? {})) out.push(`    ${key(name)}: ${schemaType(s, 2)};`);
  out.push('  };', '}', '', 'export type operations = Record<string, never>;', '');
  return out.join('\n');
}
