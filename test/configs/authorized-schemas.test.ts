/**
 * Who may read and write config schemas (AuthorizedSchemas on a real SQLite store): writes at a
 * prefix the caller's prefixes cover, for writers and admins; the stored schema's prefix too
 * when one is replaced or deleted; violators limited to what the caller may read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { ForbiddenError, type Principal } from '../../src/configs/access.ts'
import { AuthorizedSchemas } from '../../src/configs/authorized-schemas.ts'
import type { SchemaDefinition } from '../../src/configs/schema-model.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

const caller = (principal: Principal) => ({ principal, requestId: 'test' })
const admin = caller({ actor: 'admin', role: 'admin' })
const payments = caller({ actor: 'ci-payments', role: 'writer', prefixes: ['payments-'] })
const reader = caller({ actor: 'viewer', role: 'reader' })
const definition = (prefix: string): SchemaDefinition => ({
  name: 'replicas',
  prefix,
  mode: 'enforce',
  schema: { type: 'object', properties: { replicas: { type: 'integer', minimum: 1 } } },
})

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  return undefined
}

let dir: string
let store: SqliteConfigStore
let schemas: AuthorizedSchemas
beforeEach(() => {
  dir = tempDir('authorized-schemas-')
  store = new SqliteConfigStore({ path: join(dir, 'configs.db'), open: openBunSqlite })
  schemas = new AuthorizedSchemas(store.schemas)
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('AuthorizedSchemas', () => {
  it('when a writer puts a schema inside its prefixes, then it is stored', async () => {
    const { stored } = await schemas.put(payments, definition('payments-eu-'), {}, {})
    expect(stored.definition.prefix).toBe('payments-eu-')
  })

  it('when a writer puts a schema at a prefix wider than its own, then it is refused and nothing is stored', async () => {
    expect(await refusal(schemas.put(payments, definition('pay'), {}, {}))).toBeInstanceOf(ForbiddenError)
    expect(await store.schemas.get('replicas')).toBeUndefined()
  })

  it('when a reader puts a schema, then it is refused', async () => {
    expect(await refusal(schemas.put(reader, definition('payments-'), {}, {}))).toBeInstanceOf(ForbiddenError)
  })

  it('when a writer moves a schema an admin put at a wider prefix into its own, then it is refused', async () => {
    await schemas.put(admin, definition(''), {}, {})
    expect(await refusal(schemas.put(payments, definition('payments-'), {}, {}))).toBeInstanceOf(ForbiddenError)
    expect(await refusal(schemas.delete(payments, 'replicas', {}))).toBeInstanceOf(ForbiddenError)
    expect((await store.schemas.get('replicas'))?.definition.prefix).toBe('')
  })

  it('when a caller limited to prefixes lists violators, then only those inside its prefixes are named and counted', async () => {
    const meta = { actor: 'seed', requestId: '' }
    await store.create({ dcname: 'payments-1', metadata: { replicas: 0 } }, meta)
    await store.create({ dcname: 'billing-1', metadata: { replicas: 0 } }, meta)
    await schemas.put(admin, definition(''), {}, { force: true })
    const report = await schemas.violators(payments, 'replicas')
    expect(report).toEqual({ total: 1, items: [expect.objectContaining({ dcname: 'payments-1' })] })
    expect((await schemas.violators(reader, 'replicas')).total).toBe(2)
  })

  it('when a writer rolls back to a state at a prefix wider than its own, then it is refused and nothing is stored', async () => {
    const wide = await schemas.put(admin, definition('pay'), {}, {})
    const narrow = await schemas.put(admin, definition('payments-'), {}, {})
    const error = await refusal(schemas.rollback(payments, 'replicas', wide.stored.revision, {}, {}))
    expect(error).toBeInstanceOf(ForbiddenError)
    expect(await store.schemas.get('replicas')).toEqual(narrow.stored)
  })

  it('when a writer rolls back to a state inside its prefixes, then it is stored again', async () => {
    const first = await schemas.put(admin, definition('payments-eu-'), {}, {})
    await schemas.put(admin, definition('payments-'), {}, {})
    const rolled = await schemas.rollback(payments, 'replicas', first.stored.revision, {}, {})
    expect(rolled.stored.definition.prefix).toBe('payments-eu-')
  })

  it('when a reader reads history or rolls back, then it reads and is refused the rollback', async () => {
    const first = await schemas.put(admin, definition('payments-'), {}, {})
    expect((await schemas.history(reader, 'replicas', { limit: 10 })).entries).toHaveLength(1)
    expect(await schemas.getAt(reader, 'replicas', first.stored.revision)).toEqual(first.stored)
    const error = await refusal(schemas.rollback(reader, 'replicas', first.stored.revision, {}, {}))
    expect(error).toBeInstanceOf(ForbiddenError)
  })
})
