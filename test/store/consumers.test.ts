/** The ConsumerStore contract on each adapter: SQLite (a file), PostgreSQL (the run's shared cluster), memory. */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryConsumerStore } from '../../src/configs/memory-consumer-store.ts'
import { PostgresConsumerStore } from '../../src/store/postgres/postgres-consumers.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConsumerStore } from '../../src/store/sqlite/sqlite-consumers.ts'
import { sharedPostgres } from '../support/postgres.ts'
import { tempDir } from '../support/server.ts'
import { describeConsumerStoreContract } from './consumer-contract.ts'

describeConsumerStoreContract('sqlite (file)', async () => {
  const dir = tempDir('consumers-')
  const path = join(dir, 'nested', 'configs.db')
  return {
    open: async () => new SqliteConsumerStore({ path, open: openBunSqlite }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  }
})

describeConsumerStoreContract('postgres', async () => {
  const url = await (await sharedPostgres()).createDatabase('consumers')
  return { open: () => PostgresConsumerStore.open({ url }), dispose: async () => {} }
})

describeConsumerStoreContract('memory', async () => {
  const store = new MemoryConsumerStore()
  // Every handle of a memory store is the same store: there is no other process to share with.
  return { open: async () => store, dispose: async () => {} }
})
