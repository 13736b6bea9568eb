/**
 * Run by temp-dirs.test.ts as a bun test run of its own (the name keeps it out of make test): it
 * makes a temp folder, writes in it, and prints its path.
 */
import { expect, it } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './server.ts'

it('when a test makes a temp folder, then it is there while the run lasts', () => {
  const dir = tempDir('temp-dir-fixture-')
  writeFileSync(join(dir, 'configs.db'), 'x')
  expect(existsSync(join(dir, 'configs.db'))).toBe(true)
  console.log(`made ${dir}`)
})
