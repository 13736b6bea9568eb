/**
 * Compiling schemas (Ajv, JSON Schema 2020-12, with ajv-formats) and checking configs against
 * them. A schema is compiled once per revision and the compiled function cached: a store
 * revision names exactly one state of one schema, so the cache never needs invalidating.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { Config } from './model.ts'
import {
  InvalidSchemaError,
  type SchemaRow,
  SchemaViolationError,
  type SchemaWarning,
  type Violation,
} from './schema-model.ts'

/** The largest schema accepted, as JSON text. */
export const MAX_SCHEMA_BYTES = 64 * 1024
/**
 * A schema whose compilation takes longer than this is refused. The size bound is what keeps
 * compilation short; this is the backstop for a small schema that still compiles slowly.
 */
export const MAX_COMPILE_MS = 2000
/** Violations listed per config, at most (Ajv collects them all; a huge list helps nobody). */
export const MAX_VIOLATIONS = 50
/** Messages come from Ajv and may quote the schema (a pattern): long ones are cut. */
const MAX_MESSAGE_LENGTH = 200
/** Compiled schemas kept per store handle. */
const CACHE_SIZE = 256

const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef']

/**
 * Compiles a schema, or throws InvalidSchemaError in one line: too large, a reference that
 * leaves the document (the service fetches nothing), or anything Ajv refuses.
 */
export function compileSchema(ajv: Ajv2020, schema: unknown): ValidateFunction {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new InvalidSchemaError('a schema is a JSON object')
  }
  const bytes = new TextEncoder().encode(JSON.stringify(schema)).length
  if (bytes > MAX_SCHEMA_BYTES) throw new InvalidSchemaError(`it is ${bytes} bytes, over ${MAX_SCHEMA_BYTES}`)
  const remote = remoteReference(schema)
  if (remote !== undefined) {
    throw new InvalidSchemaError(`${remote} refers outside the schema (only local "#..." references are allowed)`)
  }
  let validate: ValidateFunction
  let started = 0
  try {
    // Against the meta-schema first, untimed: the first time, that compiles the meta-schema.
    if (!ajv.validateSchema(schema)) throw new Error(`schema is invalid: ${ajv.errorsText(ajv.errors)}`)
    started = performance.now()
    validate = ajv.compile(schema)
  } catch (error) {
    throw new InvalidSchemaError((error as Error).message.split('\n')[0]?.slice(0, MAX_MESSAGE_LENGTH) ?? 'invalid')
  } finally {
    // The compiled function keeps what it needs: Ajv's own cache would only grow, and two
    // revisions of a schema with one $id would collide in it.
    ajv.removeSchema(schema)
  }
  const took = performance.now() - started
  if (took > MAX_COMPILE_MS)
    throw new InvalidSchemaError(`compiling it took ${Math.round(took)} ms, over ${MAX_COMPILE_MS}`)
  return validate
}

/** The first $ref (or $dynamicRef) whose target is not inside the document, as "pointer: value". */
function remoteReference(schema: object): string | undefined {
  const stack: [unknown, string][] = [[schema, '']]
  while (stack.length > 0) {
    const [node, pointer] = stack.pop() as [unknown, string]
    if (node === null || typeof node !== 'object') continue
    for (const [key, value] of Object.entries(node)) {
      const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`
      if (REF_KEYWORDS.includes(key) && (typeof value !== 'string' || !value.startsWith('#'))) {
        return `${at} ${JSON.stringify(value).slice(0, 100)}`
      }
      stack.push([value, at])
    }
  }
  return undefined
}

/** Ajv's findings as violations: pointers into the config (the schema describes its metadata). */
export function violationsOf(errors: ErrorObject[] | null | undefined): Violation[] {
  return (errors ?? []).slice(0, MAX_VIOLATIONS).map((error) => ({
    pointer: `/metadata${error.instancePath}${missingProperty(error)}`,
    keyword: error.keyword,
    message: (error.message ?? error.keyword).slice(0, MAX_MESSAGE_LENGTH),
  }))
}

/** A `required` finding points at the missing property itself, where a form would show it. */
function missingProperty(error: ErrorObject): string {
  const missing = (error.params as { missingProperty?: unknown }).missingProperty
  if (error.keyword !== 'required' || typeof missing !== 'string') return ''
  return `/${missing.replaceAll('~', '~0').replaceAll('/', '~1')}`
}

/**
 * Compiled schemas by store revision, the oldest dropped first. An entry also keeps the text it
 * was compiled from: a revision taken by a write that was then undone (a dry run, a refusal) is
 * taken again by the next write, which may store another schema under it.
 */
export class SchemaValidators {
  private readonly compiled = new Map<number, { source: string; validate: ValidateFunction }>()
  /**
   * One instance: its first compilation compiles the meta-schema, which takes long. Made on first
   * use, so that a start without schemas does not set Ajv up with its formats (start to ready,
   * bench/README.md).
   */
  private ajv: Ajv2020 | undefined

  /** Compiles a schema not yet stored, or throws InvalidSchemaError. */
  compile(schema: unknown): ValidateFunction {
    this.ajv ??= newAjv()
    return compileSchema(this.ajv, schema)
  }

  /** The violations of `metadata` against the schema (compiled on first use of this revision). */
  violations(schema: SchemaRow, metadata: unknown): Violation[] {
    const validate = this.validator(schema)
    return validate(metadata) ? [] : violationsOf(validate.errors)
  }

  /**
   * Checks a config write against its governing schema (if any): `enforce` throws
   * SchemaViolationError, `warn` answers what it found.
   */
  check(config: Config, schema: SchemaRow | undefined): SchemaWarning | undefined {
    if (schema === undefined) return undefined
    const violations = this.violations(schema, config.metadata)
    if (violations.length === 0) return undefined
    if (schema.mode === 'enforce') throw new SchemaViolationError(config.dcname, schema.name, violations)
    return { schema: schema.name, revision: schema.revision, violations }
  }

  /** Keeps a function compiled before the write that stores its schema (so the write need not). */
  remember(revision: number, source: string, validate: ValidateFunction): void {
    this.compiled.set(revision, { source, validate })
    if (this.compiled.size > CACHE_SIZE) this.compiled.delete(this.compiled.keys().next().value as number)
  }

  private validator(schema: SchemaRow): ValidateFunction {
    const cached = this.compiled.get(schema.revision)
    if (cached?.source === schema.source) return cached.validate
    const validate = this.compile(JSON.parse(schema.source))
    this.remember(schema.revision, schema.source, validate)
    return validate
  }
}

function newAjv(): Ajv2020 {
  // Strict about the schema (an unknown keyword is a typo to report), quiet about types.
  const ajv = new Ajv2020({ allErrors: true, logger: false, strictTypes: false, strictTuples: false })
  addFormats.default(ajv)
  return ajv
}
