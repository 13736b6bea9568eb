/**
 * The README's first steps, run as a new user runs them: from a fresh `git archive`, on a PATH
 * with Node.js and npm but no bun and no deno. `make install` fetches the pinned Bun from npm
 * and installs the locked dependencies (Bun's cache makes the second part quick).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../support/postgres.ts'
import { ROOT, type RunningServer, startServer, tempDir } from '../support/server.ts'
import { freshArchive, shell, userEnv } from './fresh-archive.ts'

let dir: string
let install: { code: number; stdout: string; stderr: string }
const servers: RunningServer[] = []

beforeAll(async () => {
  dir = freshArchive()
  install = await shell(dir, 'make install')
}, 300_000)
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
  rmSync(dir, { recursive: true, force: true })
})

const readme = () => readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The text of the README between a heading and the next heading of any level. */
function section(heading: string): string {
  const text = readme()
  const start = text.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`no "${heading}" in the README`)
  const end = text.indexOf('\n#', start + heading.length + 2)
  return text.slice(start, end === -1 ? undefined : end)
}

describe('make install on a machine with only Node.js and npm', () => {
  it('when it runs first, then it installs, and prints no warning that looks like a failure', () => {
    expect(install.code).toBe(0)
    const output = `${install.stdout}${install.stderr}`
    expect(output).toContain('packages installed')
    expect(output).not.toMatch(/warn|blocked|error|untrusted/i)
  })
})

describe('make help', () => {
  it('when it lists the targets, then every target of the Makefile is there with its description', async () => {
    const makefile = readFileSync(join(dir, 'Makefile'), 'utf8')
    const phony = [...makefile.matchAll(/^\.PHONY:(.*)$/gm)].flatMap((line) => (line[1] as string).trim().split(/\s+/))
    const help = await shell(dir, 'make --no-print-directory help')
    expect(phony).toContain('test-bun')
    for (const target of phony) expect(help.stdout).toMatch(new RegExp(`^  make ${target} +\\S`, 'm'))
  })
})

describe('configctl from a checkout', () => {
  it('when bin/configctl runs, then it builds dist/configctl and runs it from the caller’s folder, its stdout only its data', async () => {
    const server = await startServer()
    servers.push(server)
    const caller = tempDir('caller-')
    mkdirSync(join(caller, 'configs'))
    writeFileSync(join(caller, 'configs', 'dc-9.yaml'), 'dcname: dc-9\nmetadata:\n  team: payments\n')
    const env = { CONFIGCTL_URL: server.url, XDG_STATE_HOME: tempDir('state-') }

    const applied = await shell(caller, `${dir}/bin/configctl apply -f configs`, env)
    expect(applied.stdout).toBe('config/dc-9 created\n1 config: 1 created, 0 configured, 0 unchanged\n')
    expect(applied.code).toBe(0)
    const got = await shell(caller, `${dir}/bin/configctl get dc-9 -o json`, env)
    expect(JSON.parse(got.stdout)).toMatchObject({ dcname: 'dc-9', metadata: { team: 'payments' } })
  }, 120_000)

  it('when the README tells how to run configctl from a checkout, then it names bin/configctl, not bun run', () => {
    const text = section('## configctl')
    expect(text).toContain('`bin/configctl <args>`')
    expect(text).not.toContain('bun run configctl')
  })
})

describe('the Deno command lines of the README', () => {
  /** Every command line the "On Deno" section gives: code lines (and the "or:" of their comments) and inline code. */
  function commands(): string[] {
    const text = section('### On Deno')
    const found: string[] = []
    for (const block of text.matchAll(/```sh\n([^`]*)```/g)) {
      for (const line of (block[1] as string).trim().split('\n')) {
        const [command, comment = ''] = line.split(/\s+#\s*/)
        found.push(
          (command as string).trim(),
          ...[...comment.matchAll(/or: ([^,]+)/g)].map((m) => (m[1] as string).trim()),
        )
      }
    }
    for (const inline of text.matchAll(/`((?:make|bun|deno|\.tools\/|node_modules\/)\s?[^`]*)`/g))
      found.push(inline[1] as string)
    return found.filter((command) => /^(make|bun|deno|\.tools\/|node_modules\/)/.test(command) && /deno/.test(command))
  }

  /** Runs a command line in the fresh archive until the service answers /healthz, or it gives up. */
  async function startsOnDeno(command: string): Promise<boolean> {
    const port = await freePort()
    const child = Bun.spawn(['bash', '-c', `exec ${command}`], {
      cwd: dir,
      env: userEnv({ SERVE_PORT: String(port), DATABASE_URL: 'sqlite::memory:' }),
      stdout: 'ignore',
      stderr: 'ignore',
      detached: true,
    })
    try {
      for (const deadline = Date.now() + 90_000; Date.now() < deadline && child.exitCode === null; ) {
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
          .then((answer) => answer.text())
          .catch(() => undefined)
        if (metrics !== undefined) return /runtime="deno"/.test(metrics)
        await Bun.sleep(100)
      }
      return false
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      await child.exited
    }
  }

  it('when the section is read, then it gives make run-deno and a full path for bun and for deno', () => {
    expect(commands()).toEqual([
      'make run-deno',
      '.tools/node_modules/.bin/bun run start:deno',
      'node_modules/.bin/deno task start:deno',
    ])
  })

  it('when each command line it gives runs in the fresh archive on a PATH without bun or deno, then the service answers on Deno', async () => {
    const failed: string[] = []
    for (const command of commands()) if (!(await startsOnDeno(command))) failed.push(command)
    expect(failed).toEqual([])
  }, 300_000)
})
