/**
 * What a config's edit form learns from the schema that governs it: which schema that is (the
 * longest prefix, as the service decides), and the properties whose `enum` or `default` the form
 * can offer. Pure functions, so Bun runs them as the browser does.
 */

/**
 * @typedef {import('./api.js').Schema} Schema
 * @typedef {{ path: string[], pointer: string, enum?: unknown[], default?: unknown, hasDefault: boolean }} SchemaField
 *   `path` and `pointer` lead into the config (`metadata` first), as the service's errors do
 */

/** Deep enough for any config a person edits by hand; a recursive `$ref` stops here. */
const MAX_DEPTH = 8

/**
 * The schema that governs `dcname`: the one with the longest prefix it starts with.
 * @param {Schema[]} schemas
 * @param {string} dcname
 */
export function governingSchema(schemas, dcname) {
  /** @type {Schema | undefined} */
  let best
  for (const schema of schemas) {
    if (dcname.startsWith(schema.prefix) && schema.prefix.length >= (best?.prefix.length ?? -1)) best = schema
  }
  return best
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** @param {string} name */
function escapePointer(name) {
  return name.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * A `$ref` inside the same document (`#/$defs/tier`), followed; the service refuses any other.
 * @param {Record<string, unknown>} root
 * @param {Record<string, unknown>} node
 */
function resolved(root, node) {
  const ref = node.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#')) return node
  /** @type {unknown} */
  let target = root
  for (const part of ref.slice(1).split('/').slice(1)) {
    if (!isObject(target)) return node
    target = target[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return isObject(target) ? { ...target, ...node } : node
}

/**
 * The properties (nested through `properties`) that have an `enum` or a `default`, in the
 * schema's order.
 * @param {Record<string, unknown>} schema
 * @returns {SchemaField[]}
 */
export function schemaFields(schema) {
  /** @type {SchemaField[]} */
  const fields = []
  /** @param {Record<string, unknown>} node @param {string[]} path */
  const walk = (node, path) => {
    if (path.length > MAX_DEPTH) return
    const here = resolved(schema, node)
    if (path.length > 1) {
      const values = Array.isArray(here.enum) ? here.enum : undefined
      const hasDefault = 'default' in here
      if (values || hasDefault) {
        const pointer = `/${path.map(escapePointer).join('/')}`
        fields.push({ path, pointer, enum: values, default: here.default, hasDefault })
      }
    }
    if (!isObject(here.properties)) return
    for (const [name, child] of Object.entries(here.properties)) {
      if (isObject(child)) walk(child, [...path, name])
    }
  }
  walk(schema, ['metadata'])
  return fields
}

/**
 * The value at `path`, or undefined when it is not there.
 * @param {unknown} root
 * @param {string[]} path
 */
export function valueAt(root, path) {
  /** @type {unknown} */
  let node = root
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined
    node = node[key]
  }
  return node
}

/**
 * A copy of `root` with `value` at `path`, objects made on the way where there were none.
 * @param {unknown} root
 * @param {string[]} path
 * @param {unknown} value
 * @returns {unknown}
 */
export function withValueAt(root, path, value) {
  const [key, ...rest] = path
  if (key === undefined) return value
  const base = isObject(root) ? root : {}
  return { ...base, [key]: withValueAt(base[key], rest, value) }
}

/**
 * `config` with the default of every field it lacks; and which fields those were.
 * @param {unknown} config
 * @param {SchemaField[]} fields
 */
export function withDefaults(config, fields) {
  let next = config
  /** @type {string[]} */
  const added = []
  for (const field of fields) {
    if (!field.hasDefault || valueAt(next, field.path) !== undefined) continue
    next = withValueAt(next, field.path, field.default)
    added.push(field.pointer)
  }
  return { config: next, added }
}
