/**
 * A store file as the service leaves it, then damaged the way a bad sector damages one: bytes
 * of a page of the configs table overwritten (the file header stays intact, so it still opens).
 */
import { Database } from 'bun:sqlite'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from './server.ts'

export async function damagedStoreFile(): Promise<string> {
  const path = join(tempDir('damaged-'), 'configs.db')
  const store = new SqliteConfigStore({ path, open: openBunSqlite })
  for (let i = 0; i < 100; i++)
    await store.create({ dcname: `dc-${i}`, metadata: { i } }, { actor: 'a', requestId: '' })
  await store.close()
  const db = new Database(path)
  // Every page into the file itself: a copy left in the WAL would hide the damage.
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  const { page_size: pageSize } = db.query('PRAGMA page_size').get() as { page_size: number }
  const { rootpage } = db.query("SELECT rootpage FROM sqlite_master WHERE name = 'configs'").get() as {
    rootpage: number
  }
  db.close()
  const fd = openSync(path, 'r+')
  writeSync(fd, new Uint8Array(64).fill(0xa5), 0, 64, (rootpage - 1) * pageSize)
  closeSync(fd)
  return path
}
