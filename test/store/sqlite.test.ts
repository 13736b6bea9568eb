import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'
import { describeConfigStoreContract, type StoreFixture } from './contract.ts'
import { describeHistoryContract } from './history-contract.ts'

const fixture = async (): Promise<StoreFixture> => {
  const dir = tempDir('store-')
  const path = join(dir, 'nested', 'configs.db')
  return {
    open: async (options) => new SqliteConfigStore({ path, open: openBunSqlite, ...options }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

describeConfigStoreContract('sqlite (file)', fixture)
describeHistoryContract('sqlite (file)', fixture)
