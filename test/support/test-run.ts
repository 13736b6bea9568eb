/**
 * Preloaded for every `bun test` run (bunfig.toml): what the files of a run share, and the temp
 * folders they made, are removed once the last of them has run. A hook registered here runs once
 * for the whole run; the test runner emits no process exit event, so this is the place.
 */
import { afterAll } from 'bun:test'
import { disposeSharedPostgres } from './postgres.ts'
import { removeTempDirs } from './server.ts'

// Removing a cluster that many files made databases in takes a while on a busy disk.
afterAll(async () => {
  await disposeSharedPostgres()
  removeTempDirs()
}, 120_000)
