/**
 * Which existing configs a schema governs and breaks: asked when a schema changes (an `enforce`
 * schema is refused while there are any) and by GET /schemas/{name}/violations.
 */
import type { Config } from './model.ts'
import { governing, type SchemaRow, VIOLATORS_LIMIT, type ViolatorReport } from './schema-model.ts'
import type { SchemaValidators } from './schema-validator.ts'

/**
 * `configs`: at least every config whose dcname starts with the schema's prefix; `schemas`:
 * every schema of the store, with `schema` in place of its stored state (a config under a
 * longer prefix is that schema's business).
 */
export function collectViolators(
  schema: SchemaRow,
  schemas: readonly SchemaRow[],
  configs: Iterable<Config>,
  validators: SchemaValidators,
): ViolatorReport {
  const report: ViolatorReport = { items: [], total: 0 }
  for (const config of configs) {
    if (governing(config.dcname, schemas)?.name !== schema.name) continue
    const violations = validators.violations(schema, config.metadata)
    if (violations.length === 0) continue
    report.total += 1
    if (report.items.length < VIOLATORS_LIMIT) report.items.push({ dcname: config.dcname, violations })
  }
  return report
}

/** The schemas as they would be once `next` is stored. */
export function withSchema(schemas: readonly SchemaRow[], next: SchemaRow): SchemaRow[] {
  return [...schemas.filter((s) => s.name !== next.name), next]
}
