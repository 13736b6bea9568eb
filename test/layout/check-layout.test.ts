/**
 * The layout check of `make check`, on a copy of src/ with one bad import (or an overlong file)
 * planted: each must fail it, with a line that names the culprit. The committed src/ and the
 * first planted import go through the script as make runs it (its own process, exit code and
 * stderr); the other cases call the same check in this process, which spares a runtime and
 * TypeScript loaded again for each case.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { appendFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/server.ts'
import { checkLayout } from './check-layout.ts'

const ROOT = join(import.meta.dir, '..', '..')
const SCRIPT = join(import.meta.dir, 'check-layout.ts')

function runScript(src: string): { code: number; stderr: string; ms: number } {
  const started = performance.now()
  const run = Bun.spawnSync([process.execPath, SCRIPT, src], { stdout: 'pipe', stderr: 'pipe' })
  return { code: run.exitCode, stderr: run.stderr.toString(), ms: performance.now() - started }
}

/** What the script would exit with and print, without starting it. */
function runCheck(src: string): { code: number; stderr: string } {
  const findings = checkLayout(src)
  return { code: findings.length === 0 ? 0 : 1, stderr: findings.map((finding) => `layout: ${finding}\n`).join('') }
}

describe('layout check', () => {
  let dir: string
  let src: string
  const plant = (file: string, line: string) => appendFileSync(join(src, file), `\n${line}\n`)

  beforeEach(() => {
    dir = tempDir('layout-')
    src = join(dir, 'src')
    cpSync(join(ROOT, 'src'), src, { recursive: true })
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('when src/ is as committed, then the check passes', () => {
    const { code, stderr } = runScript(src)
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })

  it('when the domain imports the HTTP adapter, then the check fails naming the import', () => {
    plant('configs/model.ts', "import type { Problem } from '../http/problem.ts'")
    const { code, stderr } = runScript(src)
    expect(code).toBe(1)
    expect(stderr).toContain(
      'layout: src/configs/model.ts imports src/http/problem.ts: configs must not depend on http',
    )
  })

  it('when the domain imports a store, observability or the wiring, then the check fails', () => {
    plant('configs/merge-patch.ts', "export { SqliteConfigStore } from '../store/sqlite/sqlite-store.ts'")
    plant('configs/filter-match.ts', "const metrics = () => import('../observability/metrics.ts')")
    plant('configs/watch-view.ts', "import '../app.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('src/configs/merge-patch.ts imports src/store/sqlite/sqlite-store.ts')
    expect(stderr).toContain('src/configs/filter-match.ts imports src/observability/metrics.ts')
    expect(stderr).toContain('src/configs/watch-view.ts imports src/app.ts: configs must not depend on wiring')
  })

  it('when the HTTP adapter imports a store, then the check fails', () => {
    plant('http/health.ts', "import type { SqliteConfigStore } from '../store/sqlite/sqlite-store.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain(
      'src/http/health.ts imports src/store/sqlite/sqlite-store.ts: http must not depend on store',
    )
  })

  it('when a store imports the HTTP adapter, then the check fails', () => {
    plant('store/sqlite/sqlite-errors.ts', "import { problem } from '../../http/problem.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain(
      'src/store/sqlite/sqlite-errors.ts imports src/http/problem.ts: store must not depend on http',
    )
  })

  it('when settings import anything of ours, then the check fails', () => {
    plant('settings.ts', "import type { Config } from './configs/model.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('src/settings.ts imports src/configs/model.ts: settings must not depend on configs')
  })

  it('when the settings/ folder imports anything of ours, then the check fails as for settings.ts', () => {
    plant('settings/types.ts', "import type { Config } from '../configs/model.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('src/settings/types.ts imports src/configs/model.ts: settings must not depend on configs')
  })

  it('when the access adapter imports the HTTP adapter, or the domain imports it, then the check fails', () => {
    plant('access/token-file.ts', "import type { Problem } from '../http/problem.ts'")
    plant('configs/access.ts', "import '../access/token-file.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('src/access/token-file.ts imports src/http/problem.ts: access must not depend on http')
    expect(stderr).toContain(
      'src/configs/access.ts imports src/access/token-file.ts: configs must not depend on access',
    )
  })

  it('when two folders import each other, then the check fails naming an import of each step', () => {
    plant('http/problem.ts', "import { SSE_HEADERS } from './watch/sse.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('layout: import cycle between folders: src/http/ -> src/http/watch/ (')
    expect(stderr).toContain('src/http/problem.ts imports src/http/watch/sse.ts')
  })

  it('when a file grows past 300 lines, then the check asks for it to be split', () => {
    plant('configs/merge-patch.ts', Array.from({ length: 300 }, (_, i) => `// line ${i}`).join('\n'))
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toMatch(/layout: src\/configs\/merge-patch\.ts has \d+ lines: split it \(at most 300\)/)
  })

  it('when the client imports the app for its type only, then the check passes; for a value, it fails', () => {
    plant('client/problem-error.ts', "import type { App } from '../app.ts'\nexport type Same = App")
    plant('client/watch.ts', "import { type App, createApp } from '../app.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('layout: src/client/watch.ts imports src/app.ts: client must not depend on wiring')
    expect(stderr).not.toContain('src/client/problem-error.ts')
  })

  it('when the client imports an adapter, or the server imports the client or configctl, then the check fails', () => {
    plant('client/watch.ts', "import type { Problem } from '../http/problem.ts'")
    plant('http/problem.ts', "import type { ConfigClient } from '../client/client.ts'")
    plant('service.ts', "import './cli/configctl.ts'")
    plant('cli/output.ts', "import '../store/sqlite/sqlite-store.ts'")
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('src/client/watch.ts imports src/http/problem.ts: client must not depend on http')
    expect(stderr).toContain('src/http/problem.ts imports src/client/client.ts: http must not depend on client')
    expect(stderr).toContain('src/service.ts imports src/cli/configctl.ts: wiring must not depend on cli')
    expect(stderr).toContain('src/cli/output.ts imports src/store/sqlite/sqlite-store.ts: cli must not depend on store')
  })

  it('when a new folder appears under src/, then the check asks for its place in the layout', () => {
    mkdirSync(join(src, 'cache'))
    writeFileSync(join(src, 'cache', 'read-cache.ts'), 'export const cache = new Map()\n')
    const { code, stderr } = runCheck(src)
    expect(code).toBe(1)
    expect(stderr).toContain('src/cache/ has no layer')
  })
})
