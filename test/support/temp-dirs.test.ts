/**
 * The temp folders a bun test run makes (tempDir) are removed when the run ends, by the hook
 * bunfig.toml preloads: checked on a run of its own, as make test's runs end.
 */
import { describe, expect, it } from 'bun:test'
import { existsSync } from 'node:fs'
import { ROOT } from './server.ts'

describe('a test run', () => {
  it('when it ends, then the temp folders its tests made are gone', async () => {
    const run = Bun.spawn([process.execPath, 'test', './test/support/temp-dir-fixture.ts'], {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, stdout, stderr] = await Promise.all([
      run.exited,
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
    ])
    expect({ code, stderr }).toMatchObject({ code: 0 })
    const made = stdout.match(/^made (\S+)$/m)?.[1]
    expect(made).toStartWith('/')
    expect(existsSync(made as string)).toBe(false)
  }, 60_000)
})
