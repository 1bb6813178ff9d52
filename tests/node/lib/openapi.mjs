// tests/node/lib/openapi.mjs — validating real responses against vigy's OpenAPI 3.1
// document with a real JSON Schema 2020-12 validator (ajv), and comparing a server's
// routes with the document's operations.
//
//   const v = await openapiValidator(doc);
//   v.validateResponse('GET', '/v1/vigies/{name}', 200, 'application/json', body) -> [] or error strings
//   v.validateSchema('Problem', body)                                                -> [] or error strings
//   compareRoutes(routes /* [{method, path}] */, doc) -> {undocumented, unserved}
import { importModule } from './harness.mjs';

const DOC_ID = 'urn:vigy:openapi';

/** Rewrites document-relative refs ("#/components/...") to refs into the registered document. */
function rebase(schema) {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? DOC_ID + v : rebase(v);
    }
    return out;
  }
  return schema;
}

function resolveRef(doc, node) {
  let n = node;
  while (n && n.$ref) {
    n = n.$ref
      .slice(2)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((at, t) => (at ? at[t] : undefined), doc);
  }
  return n;
}

export async function openapiValidator(doc) {
  const { default: Ajv2020 } = await importModule('ajv', '/dist/2020.js');
  const { default: addFormats } = await importModule('ajv-formats');
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int64', { type: 'number', validate: (x) => Number.isInteger(x) });
  ajv.addFormat('int32', { type: 'number', validate: (x) => Number.isInteger(x) && Math.abs(x) < 2 ** 31 });
  ajv.addVocabulary(['components']);
  ajv.addSchema({ $id: DOC_ID, components: { schemas: rebase(doc.components.schemas) } });
  const cache = new Map();
  const compile = (schema) => {
    const key = JSON.stringify(schema);
    if (!cache.has(key)) cache.set(key, ajv.compile(rebase(schema)));
    return cache.get(key);
  };
  const errorsOf = (validate, body) =>
    validate(body) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message} (${e.schemaPath})`);

  return {
    /** Errors of `body` against components.schemas[name]. */
    validateSchema(name, body) {
      if (!doc.components.schemas[name]) return [`no schema ${name} in the document`];
      return errorsOf(compile({ $ref: `#/components/schemas/${name}` }), body);
    },
    /** Errors of a response against the documented operation (path template, status, media type). */
    validateResponse(method, path, status, contentType, body) {
      const item = doc.paths[path];
      if (!item) return [`${path} is not documented`];
      const op = item[method.toLowerCase()];
      if (!op) return [`${method} ${path} is not documented`];
      const resp = resolveRef(doc, op.responses[String(status)] ?? op.responses.default);
      if (!resp) return [`${method} ${path} does not document status ${status}`];
      const media = (contentType || '').split(';')[0].trim();
      if (!resp.content) return body === undefined || body === '' ? [] : [`${status} documents no body`];
      const mt = resp.content[media];
      if (!mt) return [`${method} ${path} ${status} does not document ${media} (has ${Object.keys(resp.content)})`];
      return mt.schema ? errorsOf(compile(mt.schema), body) : [];
    },
  };
}

/** Documented operations as "METHOD /path" strings. */
export function documentedOperations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])
      if (item[m]) out.push(`${m.toUpperCase()} ${path}`);
  return out.sort();
}

/** Served routes ([{method, path}], e.g. from --print-routes) vs the document, both ways. */
export function compareRoutes(routes, doc) {
  const served = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const documented = new Set(documentedOperations(doc));
  return {
    undocumented: [...served].filter((r) => !documented.has(r)).sort(),
    unserved: [...documented].filter((r) => !served.has(r)).sort(),
  };
}
