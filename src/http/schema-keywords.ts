/**
 * The JSON Schemas of the OpenAPI document, reduced to the keywords OpenAPI 3.1 defines.
 *
 * The route contracts' schemas are TypeBox schemas that Elysia validates with, and they carry
 * Elysia's own keywords, above all `error` (the message a failed check reports). Strict tools
 * (Redocly's `struct` rule, code generators) refuse a keyword their schema dialect lacks, so the
 * document (contract.ts, api-docs.ts) is made from copies reduced here. Validation keeps its
 * messages: the schemas themselves are left as they are.
 *
 * An allowlist rather than a list of Elysia's keywords, so that a keyword a later Elysia adds
 * is left out too instead of leaking.
 */

/** Keywords whose value is one schema. */
const SUBSCHEMA = new Set([
  'additionalProperties',
  'contains',
  'contentSchema',
  'else',
  'if',
  'items',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
])

/** Keywords whose value is a list of schemas. */
const SUBSCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])

/** Keywords whose value maps names to schemas. */
const SUBSCHEMA_MAP = new Set(['$defs', 'dependentSchemas', 'patternProperties', 'properties'])

/** JSON Schema 2020-12 keywords with plain values, and the ones OpenAPI 3.1 adds. */
const PLAIN = new Set([
  // core
  '$anchor',
  '$comment',
  '$dynamicAnchor',
  '$dynamicRef',
  '$id',
  '$ref',
  '$schema',
  '$vocabulary',
  // validation
  'const',
  'dependentRequired',
  'enum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'maxContains',
  'maximum',
  'maxItems',
  'maxLength',
  'maxProperties',
  'minContains',
  'minimum',
  'minItems',
  'minLength',
  'minProperties',
  'multipleOf',
  'pattern',
  'required',
  'type',
  'uniqueItems',
  // meta-data, format, content
  'default',
  'deprecated',
  'description',
  'examples',
  'readOnly',
  'title',
  'writeOnly',
  'format',
  'contentEncoding',
  'contentMediaType',
  // OpenAPI 3.1
  'discriminator',
  'example',
  'externalDocs',
  'xml',
])

/** A copy of `schema` with only standard keywords (and `x-` extensions), at every depth. */
export function standardSchema(schema: unknown): unknown {
  if (typeof schema === 'boolean') return schema
  if (!isRecord(schema)) return schema
  const kept: Record<string, unknown> = {}
  for (const [keyword, value] of Object.entries(schema)) {
    if (SUBSCHEMA.has(keyword)) kept[keyword] = standardSchema(value)
    else if (SUBSCHEMA_LIST.has(keyword) && Array.isArray(value)) kept[keyword] = value.map(standardSchema)
    else if (SUBSCHEMA_MAP.has(keyword) && isRecord(value))
      kept[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, standardSchema(sub)]))
    else if (PLAIN.has(keyword) || keyword.startsWith('x-')) kept[keyword] = value
  }
  return kept
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
