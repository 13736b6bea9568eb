/**
 * Keeps the dependencies of src/ pointing one way (run by `make check`):
 *
 *   src/*.ts (app, service, lifecycle, main)   wire everything together
 *   http/  store/  observability/  access/     adapters: each may use the domain and settings
 *   configs/                                   the domain: model, store port, errors; nothing else of ours
 *   settings.ts, settings/                     every setting; import nothing else of ours
 *   console/                                   the web console's browser modules: the HTTP adapter
 *                                              serves them as files; they import nothing else of ours,
 *                                              and no server code imports them
 *   client/                                    the typed client for other programs: it may use the domain,
 *                                              and the wiring only for its types (`import type { App }`),
 *                                              which leave nothing of the server in a client's bundle
 *   cli/                                       configctl: uses the client and the domain
 *
 * Nothing of the server imports client/ or cli/ (no layer above lists them).
 *
 * Fails, one line per finding, on an import that points the wrong way, on a cycle between
 * folders (subfolders included, e.g. http/ and http/watch/), on a folder that has no place
 * above yet (a new folder is placed here on purpose, not by accident), and on a file too long to
 * read in one sitting. Type-only and dynamic imports count too: they couple the code just the same.
 *
 *   bun test/layout/check-layout.ts [src-dir]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'

type Layer =
  | 'settings'
  | 'configs'
  | 'http'
  | 'store'
  | 'observability'
  | 'access'
  | 'wiring'
  | 'console'
  | 'client'
  | 'cli'

/** What each layer may import besides itself. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  settings: [],
  configs: [],
  http: ['configs', 'settings'],
  store: ['configs', 'settings'],
  observability: ['configs', 'settings'],
  access: ['configs', 'settings'],
  wiring: ['settings', 'configs', 'http', 'store', 'observability', 'access'],
  console: [],
  client: ['configs'],
  cli: ['client', 'configs'],
}

/** What each layer may import for its types only (`import type`): erased, it runs nothing of it. */
const TYPES_ALLOWED: Partial<Record<Layer, readonly Layer[]>> = {
  client: ['wiring'],
}

const MAX_LINES = 300

const FOLDER_LAYERS: Record<string, Layer> = {
  settings: 'settings',
  configs: 'configs',
  http: 'http',
  store: 'store',
  observability: 'observability',
  console: 'console',
  access: 'access',
  client: 'client',
  cli: 'cli',
}

interface Import {
  from: string
  to: string
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean
}

/** Every finding as one line; none means the layout holds. */
export function checkLayout(srcDir: string): string[] {
  const src = resolve(srcDir)
  const files = sourceFiles(src)
  const findings: string[] = []
  const imports: Import[] = []
  for (const file of files) {
    const typeOnly = typeOnlyPaths(file)
    for (const specifier of importedPaths(file)) {
      if (!specifier.startsWith('.')) continue
      const target = resolve(dirname(file), specifier)
      if (!target.startsWith(src + sep)) continue // package.json and the like: not ours to layer
      imports.push({ from: file, to: target, typeOnly: typeOnly.has(specifier) })
    }
  }
  const unplaced = new Set<string>()
  for (const file of files) {
    if (layerOf(src, file) === undefined) unplaced.add(relative(src, file).split(sep)[0] as string)
  }
  for (const folder of unplaced) {
    findings.push(`src/${folder}/ has no layer: place it in test/layout/check-layout.ts before using it`)
  }
  for (const { from, to, typeOnly } of imports) {
    const fromLayer = layerOf(src, from)
    const toLayer = layerOf(src, to)
    if (fromLayer === undefined || toLayer === undefined || fromLayer === toLayer) continue
    if (typeOnly && TYPES_ALLOWED[fromLayer]?.includes(toLayer)) continue
    if (!ALLOWED[fromLayer].includes(toLayer)) {
      findings.push(`${show(src, from)} imports ${show(src, to)}: ${fromLayer} must not depend on ${toLayer}`)
    }
  }
  for (const cycle of folderCycles(src, imports)) findings.push(`import cycle between folders: ${cycle}`)
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n').length - 1
    if (lines > MAX_LINES) findings.push(`${show(src, file)} has ${lines} lines: split it (at most ${MAX_LINES})`)
  }
  return findings
}

function sourceFiles(dir: string): string[] {
  const files: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path))
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) files.push(path)
  }
  return files
}

/** Static imports, re-exports, `import type` and `import()` alike, as TypeScript reads them. */
function importedPaths(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return info.importedFiles.map((imported) => imported.fileName)
}

/**
 * The specifiers a file imports for types only: every import or re-export of it is `import type`
 * / `export type` (or names only types: `import { type A }`). One value import makes it a value import.
 */
function typeOnlyPaths(file: string): Set<string> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest)
  const typeOnly = new Set<string>()
  const value = new Set<string>()
  for (const statement of source.statements) {
    let specifier: ts.Expression | undefined
    let types = false
    if (ts.isImportDeclaration(statement)) {
      specifier = statement.moduleSpecifier
      const clause = statement.importClause
      const bindings = clause?.namedBindings
      types =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((element) => element.isTypeOnly)))
    } else if (ts.isExportDeclaration(statement)) {
      specifier = statement.moduleSpecifier
      types = statement.isTypeOnly
    }
    if (specifier === undefined || !ts.isStringLiteral(specifier)) continue
    ;(types ? typeOnly : value).add(specifier.text)
  }
  for (const specifier of value) typeOnly.delete(specifier)
  return typeOnly
}

function layerOf(src: string, file: string): Layer | undefined {
  const parts = relative(src, file).split(sep)
  if (parts.length === 1) return parts[0] === 'settings.ts' ? 'settings' : 'wiring'
  return FOLDER_LAYERS[parts[0] as string]
}

/** A folder, except that settings.ts, which the adapters import, is not lumped with the wiring beside it. */
function unitOf(src: string, file: string): string {
  const path = relative(src, file).split(sep).join('/')
  if (path === 'settings.ts') return 'src/settings.ts'
  const folder = dirname(path)
  return folder === '.' ? 'src/' : `src/${folder}/`
}

/** One cycle per strongly connected group of folders, each step with an import that makes it. */
function folderCycles(src: string, imports: Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>()
  for (const entry of imports) {
    const from = unitOf(src, entry.from)
    const to = unitOf(src, entry.to)
    if (from === to) continue
    const out = edges.get(from) ?? new Map<string, Import>()
    if (!out.has(to)) out.set(to, entry)
    edges.set(from, out)
  }
  const cycles: string[] = []
  const done = new Set<string>()
  for (const start of [...edges.keys()].sort()) {
    if (done.has(start)) continue
    const path = findCycle(start, edges)
    if (path === undefined) continue
    for (const unit of path) done.add(unit)
    const steps = path.map((unit, i) => {
      const next = path[(i + 1) % path.length] as string
      const via = edges.get(unit)?.get(next) as Import
      return `${unit} -> ${next} (${show(src, via.from)} imports ${show(src, via.to)})`
    })
    cycles.push(steps.join(', '))
  }
  return cycles
}

/** A path from `start` back to itself, if there is one (breadth-first: the shortest). */
function findCycle(start: string, edges: Map<string, Map<string, Import>>): string[] | undefined {
  const cameFrom = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const unit = queue.shift() as string
    for (const next of [...(edges.get(unit)?.keys() ?? [])].sort()) {
      if (next === start) {
        const path = [unit]
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string)
        return path
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, unit)
        queue.push(next)
      }
    }
  }
  return undefined
}

function show(src: string, file: string): string {
  return `src/${relative(src, file).split(sep).join('/')}`
}

if (import.meta.main) {
  const dir = process.argv[2] ?? join(import.meta.dir, '..', '..', 'src')
  const findings = checkLayout(dir)
  for (const finding of findings) console.error(`layout: ${finding}`)
  process.exit(findings.length === 0 ? 0 : 1)
}
