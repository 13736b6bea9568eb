/**
 * make test runs the Bun suites as shards side by side (the Makefile's BUN_SHARD_n). A file left
 * out of every shard would never run in CI, one in two would run twice, and two shards building
 * the same file under dist/ at once would break each other's build: checked here, from the
 * Makefile and the test files as they are.
 */
import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { ROOT } from '../support/server.ts'

/** The shards' path filters, by shard number, as make reads them (continuation lines joined). */
function shards(): Map<string, string[]> {
  const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8').replace(/\\\n/g, ' ')
  const found = new Map<string, string[]>()
  for (const [, n, value] of makefile.matchAll(/^BUN_SHARD_(\d+) := (.*)$/gm)) {
    found.set(n as string, (value as string).trim().split(/\s+/))
  }
  return found
}

function testFiles(dir = join(ROOT, 'test')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(path)
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : []
  })
}

/** bun test runs a file when a filter is part of its path. */
function shardsOf(file: string, all: Map<string, string[]>): string[] {
  return [...all].filter(([, filters]) => filters.some((filter) => file.includes(filter))).map(([n]) => n)
}

/** What a file builds under dist/, by what it or a test module beside it that it imports names. */
function buildsIntoDist(file: string): boolean {
  const source = readFileSync(join(ROOT, file), 'utf8')
  // server.ts builds the bundle only for a test that asks for the 'bundle' runtime by name.
  const local = [...source.matchAll(/^import .* from '(\.\/[^']+\.ts)'$/gm)]
    .map(([, path]) => join(dirname(file), path as string))
    .filter((path) => path !== 'test/support/server.ts')
  const texts = [source, ...local.map((path) => readFileSync(join(ROOT, path), 'utf8'))]
  return texts.some((text) => /dist\/|'bundle'|bundle:configctl|bundleEntry/.test(text))
}

describe("make test's Bun shards", () => {
  const all = shards()

  it('when the Makefile is read, then it names shards, and make test runs every one of them', () => {
    expect(all.size).toBeGreaterThan(1)
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8')
    expect(makefile).toContain(`BUN_SHARDS := ${[...all.keys()].map((n) => `test-bun-${n}`).join(' ')}`)
    expect(makefile).toMatch(/^test:.*\n\t.* check \$\(BUN_SHARDS\) test-deno$/m)
  })

  it('when every test file is matched against the shards, then each is in exactly one', () => {
    const files = testFiles()
    expect(files.length).toBeGreaterThan(100)
    const misplaced = files.filter((file) => shardsOf(file, all).length !== 1)
    expect(misplaced.map((file) => `${file}: shards ${shardsOf(file, all).join(', ') || 'none'}`)).toEqual([])
  })

  it('when suites build under dist/, then they are all in one shard', () => {
    // This file names what it looks for, and builds nothing.
    const builders = testFiles().filter((file) => file !== relative(ROOT, import.meta.path) && buildsIntoDist(file))
    expect(builders).toContain('test/startup.test.ts')
    expect(builders).toContain('test/cli/commands.test.ts')
    expect(new Set(builders.flatMap((file) => shardsOf(file, all)))).toEqual(new Set(['2']))
  })
})
