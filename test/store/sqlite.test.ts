import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'
import { describeConfigStoreContract } from './contract.ts'

describeConfigStoreContract('sqlite (file)', async () => {
  const dir = tempDir('store-')
  const path = join(dir, 'nested', 'configs.db')
  return {
    open: async (options) => new SqliteConfigStore({ path, open: openBunSqlite, ...options }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  }
})
