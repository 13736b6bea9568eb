/**
 * The Dockerfile's rules, read from the file itself, and .dockerignore applied as Docker
 * applies it. The image cannot be built here (no Docker engine); image-runtime.test.ts runs
 * what it would run.
 */
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/server.ts'
import { readDockerfile, runtimeSpec } from './dockerfile.ts'
import { dockerignore } from './image-build.ts'
import { parseYamlDocuments } from './render.ts'

const stages = readDockerfile(ROOT)
const runtime = runtimeSpec(stages)
const ignored = dockerignore(ROOT)
const makefileBunVersion = /^BUN_VERSION := (\S+)$/m.exec(readFileSync(join(ROOT, 'Makefile'), 'utf8'))?.[1]

describe('Dockerfile', () => {
  it('when a stage starts FROM an image, then it is the official Bun image at the exact version the project pins', () => {
    for (const stage of stages) {
      const earlier = stages.slice(0, stage.index).some((s) => s.name === stage.base)
      if (earlier) continue
      const match = /^oven\/bun:(\d+\.\d+\.\d+)(-(slim|alpine|debian|distroless))?(@sha256:[0-9a-f]{64})?$/.exec(
        stage.base,
      )
      expect([stage.base, match !== null]).toEqual([stage.base, true])
      expect(match?.[1]).toBe(makefileBunVersion as string)
      expect(match?.[1]).toBe(Bun.version)
    }
  })

  it('when the image is built, then dependencies come from a separate stage that installs only production ones from the lockfile', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const installs = stages
      .slice(0, -1)
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'RUN' && /\bbun install\b/.test(i.raw))
    expect(installs.length).toBe(1)
    expect(installs[0]?.raw).toContain('--frozen-lockfile')
    expect(installs[0]?.raw).toContain('--production')
    const copied = runtime.stage.instructions.filter((i) => i.keyword === 'COPY' && i.flags.from !== undefined)
    expect(copied.some((i) => i.args[0]?.endsWith('/node_modules'))).toBe(true)
  })

  it('when the final stage is assembled, then it runs no command and copies only named paths, never the whole context', () => {
    const final = runtime.stage.instructions
    expect(final.filter((i) => i.keyword === 'RUN' || i.keyword === 'ADD')).toEqual([])
    for (const copy of final.filter((i) => i.keyword === 'COPY' && i.flags.from === undefined)) {
      for (const source of copy.args.slice(0, -1)) expect(['.', './', '*']).not.toContain(source)
    }
  })

  it('when the container starts, then it runs as a numeric non-root user, the one the manifests name', () => {
    expect(runtime.user).toMatch(/^\d+(:\d+)?$/)
    const [uid, gid] = (runtime.user as string).split(':').map(Number)
    expect(uid).not.toBe(0)
    expect(gid).not.toBe(0)
    const deployment = parseYamlDocuments(readFileSync(join(ROOT, 'kustomize/base/deployment.yaml'), 'utf8'))[0]
    expect(deployment?.spec.template.spec.securityContext.runAsUser).toBe(uid)
    const userLine = runtime.stage.instructions.findIndex((i) => i.keyword === 'USER')
    const entryLine = runtime.stage.instructions.findIndex((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD')
    expect(userLine).toBeLessThan(entryLine)
  })

  it('when the port is published, then EXPOSE, the SERVE_PORT default and the base ConfigMap agree', () => {
    const settings = readFileSync(join(ROOT, 'kustomize/base/settings.env'), 'utf8')
    const port = /^SERVE_PORT=(\d+)$/m.exec(settings)?.[1]
    expect(runtime.exposed).toEqual([port as string])
    expect(runtime.env.SERVE_PORT).toBe(port as string)
  })

  it('when the container starts, then bun itself is the process, in exec form, with no shell or package-manager wrapper', () => {
    const start = runtime.entrypoint ?? runtime.cmd
    expect(start?.execForm).toBe(true)
    if (runtime.cmd) expect(runtime.cmd.execForm).toBe(true)
    const [program, ...args] = runtime.argv
    expect(['bun', '/usr/local/bin/bun']).toContain(program as string)
    expect(args[0]).toMatch(/\.js$/)
    for (const wrapper of ['run', 'x', 'npm', 'npx', 'bunx', 'sh', '/bin/sh', 'bash'])
      expect(args).not.toContain(wrapper)
  })

  it("when the container starts, then it runs the bundle a build stage made with package.json's bundle script", () => {
    const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.bundle as string
    const outdir = /--outdir=(\S+)/.exec(script)?.[1] as string
    // The Bun running the script builds (a pinned Bun need not be on PATH): npm_execpath is it.
    expect(script).toContain('"$npm_execpath" build src/main.ts')
    const builder = stages
      .slice(0, -1)
      .find((s) => s.instructions.some((i) => i.keyword === 'RUN' && i.raw === 'bun run bundle'))
    expect(builder?.name).toBeDefined()
    const copied = runtime.stage.instructions.find((i) => i.keyword === 'COPY' && i.flags.from === builder?.name)
    expect(copied?.args[0]).toBe(`${runtime.workdir}/${outdir}`)
    expect(runtime.argv[1]).toBe(`${outdir}/main.js`)
  })

  it('when settings are baked in, then no ENV or ARG carries anything secret', () => {
    const names = stages.flatMap((s) =>
      s.instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG').map((i) => i.raw),
    )
    for (const text of names) expect(text).not.toMatch(/PASSWORD|TOKEN|SECRET|postgres:\/\//i)
  })
})

describe('.dockerignore', () => {
  it('when the build context is sent, then history, installed modules, local data, tools and secrets stay out', () => {
    const mustBeIgnored = [
      '.git/config',
      'node_modules/elysia/package.json',
      'data/configs.db',
      'dist/configctl',
      '.tools/node_modules/bun/bin/bun.exe',
      'kustomize/overlays/minikube/database.env',
      'some/dir/.env',
      'config/production.env',
      '.env.local',
      'deploy/tls.key',
      '.npmrc',
      'test/deploy/policy.test.ts',
    ]
    expect(mustBeIgnored.filter((path) => !ignored(path))).toEqual([])
  })

  it('when the Dockerfile copies from the context, then every source is sent', () => {
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && i.flags.from === undefined)
      .flatMap((i) => i.args.slice(0, -1))
    expect(sources.length).toBeGreaterThan(0)
    expect(sources.filter((source) => ignored(source))).toEqual([])
    expect(ignored('src/main.ts')).toBe(false)
  })
})
