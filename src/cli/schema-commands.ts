/**
 * `configctl schema apply|get|list|delete` and `configctl validate`: config schemas from a
 * terminal or CI. `validate -f DIR` checks a folder of configs offline, against the schemas
 * fetched once, with the validator the service uses (the domain's), so CI can refuse a change
 * before it reaches the service.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { ConfigClient, Schema } from '../client/index.ts'
import { governing, isSchemaName, type SchemaMode, type SchemaRow } from '../configs/schema-model.ts'
import { SchemaValidators } from '../configs/schema-validator.ts'
import { readConfigs } from './files.ts'
import { EXIT, err, type Format, out, render, UsageError } from './output.ts'

const SCHEMA_COLUMNS = ['NAME', 'PREFIX', 'MODE', 'REVISION']
const row = (s: Schema) => [s.name, JSON.stringify(s.prefix), s.mode, String(s.revision)]

export async function schemaList(client: ConfigClient, format: Format): Promise<number> {
  const schemas = await client.schemas.list()
  if (schemas.length === 0 && format === 'table') {
    err('no schemas')
    return EXIT.ok
  }
  out(render(format, schemas, SCHEMA_COLUMNS, () => schemas.map(row)))
  return EXIT.ok
}

export async function schemaGet(client: ConfigClient, name: string, format: Format): Promise<number> {
  const schema = await client.schemas.get(name)
  out(render(format, schema, SCHEMA_COLUMNS, () => [row(schema)]))
  return EXIT.ok
}

export async function schemaDelete(client: ConfigClient, name: string, dryRun: boolean): Promise<number> {
  await client.schemas.delete(name, { dryRun })
  out(`schema/${name} deleted${dryRun ? ' (server dry run)' : ''}`)
  return EXIT.ok
}

export async function schemaHistory(client: ConfigClient, name: string, format: Format): Promise<number> {
  const entries = await client.schemas.historyAll(name)
  const columns = ['REVISION', 'TYPE', 'ROLLBACK-OF', 'TIME', 'ACTOR', 'PREFIX', 'MODE']
  const rows = () =>
    entries.map((e) => [
      String(e.revision),
      e.type,
      e.rollbackOf === undefined ? '-' : String(e.rollbackOf),
      e.time,
      `${e.actor}${e.force ? ' (forced)' : ''}`,
      JSON.stringify(e.schema.prefix),
      e.schema.mode,
    ])
  out(render(format, entries, columns, rows))
  return EXIT.ok
}

export async function schemaRollback(
  client: ConfigClient,
  name: string,
  to: number,
  options: SchemaApplyOptions,
): Promise<number> {
  const { schema, created, warning } = await client.schemas.rollback(name, to, options)
  if (warning) err(`warning: schema/${name}: ${warning}`)
  const what = created ? 'restored' : 'rolled back'
  const dry = options.dryRun ? ' (server dry run)' : ''
  out(`schema/${name} ${what} to revision ${to}${options.dryRun ? '' : ` (now revision ${schema.revision})`}${dry}`)
  return EXIT.ok
}

export interface SchemaApplyOptions {
  force: boolean
  dryRun: boolean
}

/** A file holding `{name, prefix, mode, schema}` (JSON or YAML). */
export async function schemaApply(client: ConfigClient, file: string, options: SchemaApplyOptions): Promise<number> {
  const { name, ...body } = readSchemaFile(file)
  const { created, warning } = await client.schemas.put(name, body, options)
  if (warning) err(`warning: schema/${name}: ${warning}`)
  out(`schema/${name} ${created ? 'created' : 'configured'}${options.dryRun ? ' (server dry run)' : ''}`)
  return EXIT.ok
}

function readSchemaFile(file: string): Omit<Schema, 'revision'> {
  let value: unknown
  try {
    value = parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message.split('\n')[0]}`)
  }
  const doc = (value ?? {}) as Record<string, unknown>
  const problems: string[] = []
  if (typeof doc.name !== 'string' || !isSchemaName(doc.name)) problems.push('name: a schema name (a-z, 0-9, "-", ".")')
  if (typeof doc.prefix !== 'string') problems.push('prefix: a string')
  if (doc.mode !== 'enforce' && doc.mode !== 'warn') problems.push('mode: enforce or warn')
  if (doc.schema === null || typeof doc.schema !== 'object' || Array.isArray(doc.schema)) {
    problems.push('schema: a JSON Schema object')
  }
  if (problems.length > 0) throw new UsageError(`${file}: not a schema file (${problems.join('; ')})`)
  return doc as unknown as Omit<Schema, 'revision'>
}

/**
 * Every config of `path` against the schema governing it, as the service would check a write:
 * a line per violation; exit 1 when an enforce schema refuses any (warn-mode findings are
 * printed as warnings only).
 */
export async function validate(client: ConfigClient, path: string): Promise<number> {
  const local = readConfigs(path)
  const schemas: SchemaRow[] = (await client.schemas.list()).map((s) => ({
    name: s.name,
    prefix: s.prefix,
    mode: s.mode as SchemaMode,
    source: JSON.stringify(s.schema),
    revision: s.revision,
  }))
  const validators = new SchemaValidators()
  let refused = 0
  for (const { file, config } of local) {
    const schema = governing(config.dcname, schemas)
    const violations = schema ? validators.violations(schema, config.metadata) : []
    if (schema === undefined || violations.length === 0) {
      out(`config/${config.dcname} valid${schema ? ` (schema/${schema.name})` : ''}`)
      continue
    }
    const lead = schema.mode === 'enforce' ? 'error' : 'warning'
    if (schema.mode === 'enforce') refused++
    for (const v of violations)
      err(`${lead}: ${file}: config/${config.dcname}: ${v.pointer}: ${v.message} (${v.keyword})`)
  }
  out(`${local.length} config${local.length === 1 ? '' : 's'}: ${refused} refused by their schema`)
  return refused > 0 ? EXIT.failed : EXIT.ok
}
