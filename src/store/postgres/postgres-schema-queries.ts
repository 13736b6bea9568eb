/** The SQL of config schemas on PostgreSQL, one function per statement. */
import type { Sql } from 'postgres'
import { prefixRange } from '../../configs/config-store.ts'
import type { Config } from '../../configs/model.ts'
import type { SchemaDefinition, SchemaRow } from '../../configs/schema-model.ts'

type SchemaRecord = { name: string; prefix: string; mode: SchemaRow['mode']; source: string; revision: string }

function rowOf(record: SchemaRecord | undefined): SchemaRow | undefined {
  return record && { ...record, revision: Number(record.revision) }
}

/** The longest prefix wins; there are few schemas, so a scan. */
export async function selectGoverningSchema(sql: Sql, dcname: string): Promise<SchemaRow | undefined> {
  const [record] = await sql<SchemaRecord[]>`
    SELECT name, prefix, mode, source, revision FROM schemas
    WHERE left(${dcname}, length(prefix)) = prefix ORDER BY length(prefix) DESC LIMIT 1`
  return rowOf(record)
}

export async function selectSchema(sql: Sql, name: string): Promise<SchemaRow | undefined> {
  const [record] = await sql<SchemaRecord[]>`
    SELECT name, prefix, mode, source, revision FROM schemas WHERE name = ${name}`
  return rowOf(record)
}

export async function selectSchemas(sql: Sql): Promise<SchemaRow[]> {
  const records = await sql<SchemaRecord[]>`SELECT name, prefix, mode, source, revision FROM schemas ORDER BY name`
  return records.map((record) => rowOf(record) as SchemaRow)
}

export async function upsertSchema(sql: Sql, definition: SchemaDefinition, source: string, revision: number) {
  await sql`
    INSERT INTO schemas (name, prefix, mode, source, revision)
    VALUES (${definition.name}, ${definition.prefix}, ${definition.mode}, ${source}, ${revision})
    ON CONFLICT (name) DO UPDATE SET prefix = excluded.prefix, mode = excluded.mode,
      source = excluded.source, revision = excluded.revision`
}

export async function deleteSchema(sql: Sql, name: string) {
  await sql`DELETE FROM schemas WHERE name = ${name}`
}

/** Every config whose dcname starts with `prefix`, in dcname order. */
export async function selectConfigsUnder(sql: Sql, prefix: string): Promise<Config[]> {
  const { from, to } = prefixRange(prefix)
  const rows =
    to === undefined
      ? await sql<{ body: string }[]>`SELECT body::text FROM configs WHERE dcname >= ${from} ORDER BY dcname`
      : await sql<{ body: string }[]>`
          SELECT body::text FROM configs WHERE dcname >= ${from} AND dcname < ${to} ORDER BY dcname`
  return rows.map((row) => JSON.parse(row.body) as Config)
}
