/**
 * The bundle the image runs (package.json's bundle script), built here with the script's own
 * command line into a temp dir, with Bun's metafile: what a start loads is the entry chunk and
 * the chunks it imports statically, and the modules the sources import only when chosen must
 * stay out of those, in chunks of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, tempDir } from '../support/server.ts'

interface Metafile {
  outputs: Record<
    string,
    { inputs: Record<string, unknown>; imports?: { path: string; kind: string }[]; entryPoint?: string }
  >
}

/** Imported only when chosen: the PostgreSQL store, tracing, the Prometheus exposition. */
const LAZY = [
  'src/store/postgres/postgres-store.ts',
  'node_modules/postgres/',
  'node_modules/@opentelemetry/sdk-trace-base/',
  'node_modules/@opentelemetry/context-async-hooks/',
  'node_modules/@opentelemetry/exporter-trace-otlp-http/',
  'node_modules/@opentelemetry/resources/',
  'src/observability/json-line-span-exporter.ts',
  'src/observability/prometheus-registry.ts',
  'node_modules/prom-client/',
]

let work: string
let meta: Metafile
let outdir: string

beforeAll(() => {
  work = tempDir('bundle-')
  outdir = join(work, 'out')
  const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.bundle as string
  const build = script.split('&&').at(-1)?.trim().split(/\s+/) ?? []
  expect(build.slice(0, 2)).toEqual(['"$npm_execpath"', 'build'])
  const args = build.slice(2).map((arg) => (arg.startsWith('--outdir=') ? `--outdir=${outdir}` : arg))
  const metafile = join(work, 'meta.json')
  const run = Bun.spawnSync([process.execPath, 'build', ...args, `--metafile=${metafile}`], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (run.exitCode !== 0) throw new Error(`bun build failed: ${run.stderr.toString()}`)
  meta = JSON.parse(readFileSync(metafile, 'utf8'))
}, 60_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

/** Every source file of the outputs reached from the entry by static imports: what a start evaluates. */
function staticInputs(): Set<string> {
  const entry = Object.keys(meta.outputs).find((name) => meta.outputs[name]?.entryPoint === 'src/main.ts')
  if (!entry) throw new Error('no output for src/main.ts')
  const seen = new Set<string>()
  const visit = (name: string) => {
    const key = name.startsWith('./') ? name : `./${name}`
    if (seen.has(key)) return
    seen.add(key)
    for (const i of meta.outputs[key]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path)
  }
  visit(entry)
  return new Set([...seen].flatMap((name) => Object.keys(meta.outputs[name]?.inputs ?? {})))
}

const allInputs = () => new Set(Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs)))
const matching = (inputs: Set<string>, prefix: string) => [...inputs].filter((path) => path.startsWith(prefix))

describe('the bundle the image runs', () => {
  it('when it starts, then it loads the service and the Bun SQLite store, not the Deno one', () => {
    const loaded = staticInputs()
    expect(loaded.has('src/main.ts')).toBe(true)
    expect(loaded.has('src/store/sqlite/sqlite-bun.ts')).toBe(true)
    expect(allInputs().has('src/store/sqlite/sqlite-node.ts')).toBe(false)
  })

  it.each(LAZY)('when it starts, then %s is not loaded, though the bundle holds it for when it is chosen', (prefix) => {
    expect(matching(staticInputs(), prefix)).toEqual([])
    expect(matching(allInputs(), prefix).length).toBeGreaterThan(0)
  })

  it('when the Jaeger exporter is chosen, then it is imported from node_modules, since it reads its Thrift files from its own package', () => {
    expect(matching(allInputs(), 'node_modules/@opentelemetry/exporter-jaeger/')).toEqual([])
    expect(matching(allInputs(), 'node_modules/jaeger-client/')).toEqual([])
    const texts = readdirSync(outdir).map((name) => readFileSync(join(outdir, name), 'utf8'))
    expect(texts.some((text) => /import\(\s*["']@opentelemetry\/exporter-jaeger["']\s*\)/.test(text))).toBe(true)
  })
})
