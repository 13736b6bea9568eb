/**
 * What the start-up check of a SQLite file (`PRAGMA quick_check`, src/store/sqlite/integrity.ts)
 * costs: a store file of QUICK_CHECK_CONFIGS configs (default 2,000) written QUICK_CHECK_WRITES
 * times each (default 10, all kept in history) with 2 kB of metadata, checked three times with
 * the file in the page cache, then opened as the service opens it. `bun bench/quick-check.ts`
 * (about 20 s). bench/README.md, "The start-up check of a SQLite file", cites it.
 */
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openBunSqlite } from '../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../src/store/sqlite/sqlite-store.ts'

const configs = Number(process.env.QUICK_CHECK_CONFIGS ?? 2000)
const writes = Number(process.env.QUICK_CHECK_WRITES ?? 10)
const dir = mkdtempSync(join(tmpdir(), 'quick-check-'))
const path = join(dir, 'configs.db')
try {
  const keepAll = { keep: writes, days: 36_500 }
  const store = new SqliteConfigStore({ path, open: openBunSqlite, retention: keepAll, historySize: configs * writes })
  const blob = 'x'.repeat(2000)
  for (let round = 0; round < writes; round++) {
    await Promise.all(
      Array.from({ length: configs }, (_, i) =>
        store.replace({ dcname: `dc-${i}`, metadata: { round, blob } }, {}, { actor: 'bench', requestId: '' }),
      ),
    )
  }
  await store.close()
  const folded = new Database(path)
  folded.run('PRAGMA wal_checkpoint(TRUNCATE)')
  folded.close()
  const mib = statSync(path).size / 1_048_576
  console.log(`| file | quick_check, ms (3 runs) | open as the service does, ms |`)
  console.log('| --- | --- | --- |')
  const checks: number[] = []
  for (let run = 0; run < 3; run++) {
    const db = new Database(path, { readonly: true })
    const started = performance.now()
    db.query('PRAGMA quick_check(1)').all()
    checks.push(performance.now() - started)
    db.close()
  }
  const started = performance.now()
  await new SqliteConfigStore({ path, open: openBunSqlite }).close()
  const open = performance.now() - started
  const shown = checks.map((ms) => ms.toFixed(0)).join(', ')
  console.log(`| ${mib.toFixed(1)} MiB (${configs} configs x ${writes} writes) | ${shown} | ${open.toFixed(0)} |`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
