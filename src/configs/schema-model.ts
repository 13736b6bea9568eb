/**
 * Config schemas: a JSON Schema (2020-12) for the metadata of every config whose dcname starts
 * with a prefix. The longest matching prefix governs a dcname; one schema per prefix. Schemas
 * share the store's revision counter with configs, so a config write and a schema write are
 * ordered: a write is checked against the schema the store holds at that write's revision.
 */
import { t } from 'elysia'
import { type Precondition, preconditionHolds } from './write-terms.ts'

const SCHEMA_NAME_PATTERN = '^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$'
const schemaNameRegExp = new RegExp(SCHEMA_NAME_PATTERN)

export function isSchemaName(value: string): boolean {
  return schemaNameRegExp.test(value)
}

export const SchemaName = t.String({
  pattern: SCHEMA_NAME_PATTERN,
  minLength: 1,
  maxLength: 63,
  description: 'Lower-case letters, digits, "-" and ".", starting and ending with a letter or digit.',
  examples: ['payments'],
})

export type SchemaMode = 'enforce' | 'warn'

export interface SchemaDefinition {
  name: string
  /** Governs the dcnames starting with it ('' governs every dcname no longer prefix claims). */
  prefix: string
  mode: SchemaMode
  /** The JSON Schema the metadata of a governed config must satisfy. */
  schema: Record<string, unknown>
}

export interface StoredSchema {
  definition: SchemaDefinition
  /** Store-wide revision of the write that produced this state. */
  revision: number
}

/** A schema as a store reads it: its JSON text is parsed only when it is compiled. */
export interface SchemaRow {
  name: string
  prefix: string
  mode: SchemaMode
  /** The schema as JSON text, exactly as stored (`JSON.stringify(definition.schema)`). */
  source: string
  revision: number
}

export function storedSchemaOf(row: SchemaRow): StoredSchema {
  const { name, prefix, mode, source, revision } = row
  return { definition: { name, prefix, mode, schema: JSON.parse(source) }, revision }
}

/** One rule a config breaks: where (a JSON pointer into the config) and which keyword. */
export interface Violation {
  pointer: string
  keyword: string
  message: string
}

export interface Violator {
  dcname: string
  violations: Violation[]
}

/** Governing schemas' findings on a write: `enforce` refuses (SchemaViolationError), `warn` reports. */
export interface SchemaWarning {
  schema: string
  revision: number
  violations: Violation[]
}

export interface SchemaWriteOptions {
  /** Store an `enforce` schema even though existing configs break it. */
  force?: boolean
}

export interface SchemaPutResult {
  stored: StoredSchema
  created: boolean
  /** Existing configs the schema governs that break it (only with `force`, or in `warn` mode). */
  violators: ViolatorReport
}

export interface ViolatorReport {
  /** The first `VIOLATORS_LIMIT` violators, by dcname. */
  items: Violator[]
  /** Every violator, counted. */
  total: number
}

/** How many violators an answer lists (the total is always counted). */
export const VIOLATORS_LIMIT = 100

/** Of several schemas, the one whose prefix is the longest that `dcname` starts with. */
export function governing<T extends { prefix: string }>(dcname: string, schemas: Iterable<T>): T | undefined {
  let best: T | undefined
  for (const schema of schemas) {
    if (dcname.startsWith(schema.prefix) && (best === undefined || schema.prefix.length > best.prefix.length)) {
      best = schema
    }
  }
  return best
}

export class SchemaNotFoundError extends Error {
  /** `revision`: the schema did not exist at that store revision (a rollback's target). */
  constructor(
    readonly schemaName: string,
    readonly revision?: number,
  ) {
    super(
      revision === undefined
        ? `schema ${JSON.stringify(schemaName)} does not exist`
        : `schema ${JSON.stringify(schemaName)} did not exist at revision ${revision}`,
    )
    this.name = 'SchemaNotFoundError'
  }
}

export class SchemaPreconditionFailedError extends Error {
  constructor(
    readonly schemaName: string,
    readonly currentRevision: number | undefined,
  ) {
    super(
      currentRevision === undefined
        ? `schema ${JSON.stringify(schemaName)} does not exist`
        : `schema ${JSON.stringify(schemaName)} is at revision ${currentRevision}`,
    )
    this.name = 'SchemaPreconditionFailedError'
  }
}

export class SchemaPrefixTakenError extends Error {
  constructor(
    readonly prefix: string,
    readonly holder: string,
  ) {
    super(`the prefix ${JSON.stringify(prefix)} is governed by schema ${JSON.stringify(holder)} already`)
    this.name = 'SchemaPrefixTakenError'
  }
}

/** A schema Ajv cannot compile, or one the service refuses (remote $ref, too large, too slow). */
export class InvalidSchemaError extends Error {
  constructor(readonly reason: string) {
    super(`the schema cannot be used: ${reason}`)
    this.name = 'InvalidSchemaError'
  }
}

/** A config write that breaks its governing `enforce` schema: nothing was written. */
export class SchemaViolationError extends Error {
  constructor(
    readonly dcname: string,
    readonly schemaName: string,
    readonly violations: Violation[],
  ) {
    super(`config ${JSON.stringify(dcname)} breaks schema ${JSON.stringify(schemaName)}`)
    this.name = 'SchemaViolationError'
  }
}

/** An `enforce` schema that existing configs break, written without `force`: nothing was written. */
export class SchemaViolatorsError extends Error {
  constructor(
    readonly schemaName: string,
    readonly violators: ViolatorReport,
  ) {
    super(`${violators.total} existing config(s) break schema ${JSON.stringify(schemaName)}`)
    this.name = 'SchemaViolatorsError'
  }
}

/** Shared by every backend, as checkPrecondition is for configs. */
export function checkSchemaPrecondition(name: string, current: number | undefined, precondition: Precondition): void {
  if (!preconditionHolds(current, precondition)) throw new SchemaPreconditionFailedError(name, current)
}
