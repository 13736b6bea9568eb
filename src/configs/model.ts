/**
 * The config resource: its `t` schemas (used for validation and for the OpenAPI document)
 * and the few rules a schema cannot say (refused keys, nesting depth, boolean strings).
 */
import { t } from 'elysia'

const DCNAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$'
const dcnameRegExp = new RegExp(DCNAME_PATTERN)

export function isDcname(value: string): boolean {
  return dcnameRegExp.test(value)
}

/** What a dcname may start with: what `prefix=` on a list, search or watch takes. */
export const DCNAME_PREFIX_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$'
const dcnamePrefixRegExp = new RegExp(DCNAME_PREFIX_PATTERN)

export function isDcnamePrefix(value: string): boolean {
  return dcnamePrefixRegExp.test(value)
}

/** The prefix rule in words, for errors and the contract. */
export const DCNAME_PREFIX_RULE =
  '1 to 253 characters of letters, digits, "-", ".", "_", starting with a letter or digit (the start of a dcname)'

/** The dcname rule in words, as the README states it: what an error about a dcname says. */
export const DCNAME_RULE =
  '1 to 253 characters of letters, digits, "-", ".", "_", starting and ending with a letter or digit'

export const DcName = t.String({
  pattern: DCNAME_PATTERN,
  minLength: 1,
  maxLength: 253,
  description: 'Name and key: letters, digits, "-", ".", "_", starting and ending with a letter or digit.',
  examples: ['datacenter-1'],
})

/** JSON booleans, or the strings "true"/"false" (stored as booleans). */
const BooleanLike = t.Union([t.Boolean(), t.Literal('true'), t.Literal('false')], {
  error: 'expected true, false, "true" or "false"',
})

/** A Kubernetes resource quantity such as `500m`, `2`, `512Mi` or `1e3`. */
const Quantity = t.String({
  pattern: '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$',
  maxLength: 64,
  examples: ['500m', '2', '512Mi'],
  error: 'expected a Kubernetes quantity such as "500m", "2" or "512Mi"',
})

const Monitoring = t.Object({ enabled: t.Optional(BooleanLike) }, { additionalProperties: true })
const Limit = t.Object(
  { enabled: t.Optional(BooleanLike), value: t.Optional(Quantity) },
  { additionalProperties: true },
)

const Metadata = t.Object(
  {
    monitoring: t.Optional(Monitoring),
    limits: t.Optional(t.Record(t.String(), Limit)),
  },
  {
    additionalProperties: true,
    description: 'Known fields are typed; any other key is kept as given.',
  },
)

/**
 * The example of a new config, and so the POST body that Swagger UI's "Try it out" sends: a
 * dcname the seed does not have, so that on a fresh service it creates (201) instead of
 * conflicting with a seed config (409).
 */
export const NEW_CONFIG_EXAMPLE = exampleConfig('datacenter-3')

export const ConfigSchema = t.Object(
  { dcname: DcName, metadata: Metadata },
  { additionalProperties: false, examples: [NEW_CONFIG_EXAMPLE] },
)

/** PUT body: the dcname comes from the URL and may be left out of the body. */
export const ReplaceSchema = t.Object(
  { dcname: t.Optional(DcName), metadata: Metadata },
  { additionalProperties: false, examples: [{ metadata: exampleConfig('datacenter-1').metadata }] },
)

/** PATCH body: a JSON Merge Patch (RFC 7396); the merged result is validated as a config. */
export const MergePatchSchema = t.Object(
  { dcname: t.Optional(DcName), metadata: t.Optional(t.Record(t.String(), t.Any())) },
  {
    additionalProperties: false,
    examples: [{ metadata: { monitoring: { enabled: false }, team: 'payments' } }],
  },
)

export type Config = { dcname: string; metadata: Record<string, unknown> }

export function exampleConfig(dcname: string): Config {
  return {
    dcname,
    metadata: { monitoring: { enabled: true }, limits: { cpu: { enabled: true, value: '500m' } } },
  }
}

export const SEED_CONFIGS: Config[] = [exampleConfig('datacenter-1'), exampleConfig('datacenter-2')]

const MAX_METADATA_DEPTH = 16
const REFUSED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request body. */
  pointer: string
  message: string
  /** The JSON Schema keyword it breaks, for a config schema's violations. */
  keyword?: string
}

/**
 * Rules the schema cannot express, checked before schema validation so that hostile
 * structures (prototype keys, very deep nesting) are refused before anything walks them.
 */
export function structuralErrors(body: unknown): FieldError[] {
  const errors: FieldError[] = []
  const visit = (value: unknown, pointer: string, depth: number): void => {
    if (value === null || typeof value !== 'object') return
    if (depth > MAX_METADATA_DEPTH) {
      errors.push({ pointer, message: `nesting deeper than ${MAX_METADATA_DEPTH} levels` })
      return
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
    for (const [key, child] of entries) {
      const childPointer = `${pointer}/${escapePointer(key)}`
      if (REFUSED_KEYS.has(key))
        errors.push({ pointer: childPointer, message: `the key ${JSON.stringify(key)} is not allowed` })
      else visit(child, childPointer, depth + 1)
      if (errors.length >= 20) return
    }
  }
  if (body !== null && typeof body === 'object') {
    for (const [key, child] of Object.entries(body)) {
      if (REFUSED_KEYS.has(key))
        errors.push({ pointer: `/${escapePointer(key)}`, message: `the key ${JSON.stringify(key)} is not allowed` })
      // metadata itself is level 1
      else if (key === 'metadata') visit(child, '/metadata', 1)
    }
  }
  return errors
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}

/** Stores the boolean strings of known fields as booleans; everything else is kept as given. */
export function normalizeConfig(config: Config): Config {
  const metadata = { ...config.metadata }
  const monitoring = metadata.monitoring
  if (isObject(monitoring) && 'enabled' in monitoring) {
    metadata.monitoring = { ...monitoring, enabled: toBoolean(monitoring.enabled) }
  }
  const limits = metadata.limits
  if (isObject(limits)) {
    metadata.limits = Object.fromEntries(
      Object.entries(limits).map(([name, limit]) =>
        isObject(limit) && 'enabled' in limit ? [name, { ...limit, enabled: toBoolean(limit.enabled) }] : [name, limit],
      ),
    )
  }
  return { dcname: config.dcname, metadata }
}

function toBoolean(value: unknown): unknown {
  if (value === 'true') return true
  if (value === 'false') return false
  return value
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
