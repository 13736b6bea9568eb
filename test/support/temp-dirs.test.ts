/**
 * The temp folders a bun test run makes (tempDir) are removed when the run ends, by the hook
 * bunfig.toml preloads: checked on a run of its own, as make test's runs end.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { ROOT } from './server.ts'

describe('a test run', () => {
  it('when it ends, then the temp folders its tests made are gone', () => {
    const run = Bun.spawnSync([process.execPath, 'test', './test/support/temp-dir-fixture.ts'], { cwd: ROOT })
    expect({ code: run.exitCode, stderr: run.stderr.toString() }).toMatchObject({ code: 0 })
    const made = run.stdout.toString().match(/^made (\S+)$/m)?.[1]
    expect(made).toStartWith('/')
    expect(existsSync(made as string)).toBe(false)
  }, 60_000)
})
