/** A real internal failure is a 500 problem that says nothing of the internals, and is reported. */

import { Database } from 'bun:sqlite'
import { expect, it } from 'bun:test'
import { join } from 'node:path'
import { createApp } from '../../src/app.ts'
import { openBunSqlite } from '../../src/store/sqlite/sqlite-bun.ts'
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../support/server.ts'

it('when the store fails for a reason that is not bad input, then the answer is a bare 500 problem and the error is reported', async () => {
  const path = join(tempDir(), 'configs.db')
  const store = new SqliteConfigStore({ path, open: openBunSqlite })
  const reported: unknown[] = []
  const app = createApp({ store, maxBodyBytes: 1024, reportError: (error) => reported.push(error) })
  // Someone drops the table behind the service's back: every query now fails inside SQLite.
  const intruder = new Database(path)
  intruder.run('DROP TABLE configs')
  intruder.close()
  const response = await app.handle(new Request('http://localhost/configs/datacenter-1'))
  expect(response.status).toBe(500)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = await response.json()
  expect(body).toEqual({
    type: 'urn:config-service:problem:internal',
    title: 'Internal Server Error',
    status: 500,
    detail: 'an internal error occurred; it has been logged',
  })
  expect(reported).toHaveLength(1)
  expect(String(reported[0])).toContain('no such table')
  await store.close()
})
