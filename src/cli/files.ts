/**
 * The configs of `apply -f` and `diff -f`: one file, or every `.json`, `.yaml` and `.yml` file
 * of a folder (not its subfolders), one config each, checked by the same rules as the service
 * (the domain's schema and structure checks) before anything is sent. A file that is not a
 * valid config is a usage error that names the file and what is wrong in it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { parseAllDocuments } from 'yaml'
import {
  type Config,
  ConfigSchema,
  DCNAME_RULE,
  type FieldError,
  isObject,
  normalizeConfig,
  structuralErrors,
} from '../configs/model.ts'
import { UsageError } from './output.ts'

const EXTENSIONS = new Set(['.json', '.yaml', '.yml'])

export interface LocalConfig {
  /** As given on the command line, joined with the file's name for a folder. */
  file: string
  /** Normalized as the service stores it (`"true"` is `true`). */
  config: Config
}

/** Sorted by dcname; every file valid, every dcname once. */
export function readConfigs(path: string): LocalConfig[] {
  const files = configFiles(path)
  const configs = files.map((file) => ({ file, config: readConfig(file) }))
  const byName = new Map<string, string>()
  for (const { file, config } of configs) {
    const other = byName.get(config.dcname)
    if (other !== undefined) throw new UsageError(`${file}: config ${config.dcname} is also in ${other}`)
    byName.set(config.dcname, file)
  }
  return configs.sort((a, b) => (a.config.dcname < b.config.dcname ? -1 : 1))
}

function configFiles(path: string): string[] {
  let isFolder: boolean
  try {
    isFolder = statSync(path).isDirectory()
  } catch {
    throw new UsageError(`${path}: no such file or folder`)
  }
  if (!isFolder) {
    if (!EXTENSIONS.has(extname(path))) throw new UsageError(`${path}: not a .json, .yaml or .yml file`)
    return [path]
  }
  const files = readdirSync(path)
    .filter((name) => EXTENSIONS.has(extname(name)) && !name.startsWith('.'))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile())
  if (files.length === 0) throw new UsageError(`${path}: no .json, .yaml or .yml file in this folder`)
  return files
}

function readConfig(file: string): Config {
  const text = readFileSync(file, 'utf8')
  const value = withoutRevision(extname(file) === '.json' ? parseJson(file, text) : parseYaml(file, text))
  const problems: FieldError[] = structuralErrors(value)
  if (problems.length === 0 && !Value.Check(ConfigSchema, value)) {
    for (const error of Value.Errors(ConfigSchema, value)) {
      // One line per field, as the service answers: a field that fails several checks is named once.
      if (problems.some((problem) => problem.pointer === error.path)) continue
      problems.push({ pointer: error.path, message: schemaMessage(error) })
      if (problems.length >= 3) break
    }
  }
  if (problems.length > 0) {
    const what = problems.map((p) => `${p.pointer || '/'}: ${p.message}`).join('; ')
    throw new UsageError(`${file}: not a valid config: ${what}`)
  }
  return normalizeConfig(value as Config)
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON: ${(error as Error).message}`)
  }
}

function parseYaml(file: string, text: string): unknown {
  const documents = parseAllDocuments(text)
  if (!Array.isArray(documents) || documents.length !== 1) {
    const count = Array.isArray(documents) ? documents.length : 0
    throw new UsageError(`${file}: holds ${count} YAML documents, not one config`)
  }
  const document = documents[0]
  if (document === undefined) throw new UsageError(`${file}: empty`)
  const [error] = document.errors
  if (error) {
    // The parser's first line is "<reason> at line L, column C:", followed by an excerpt.
    const reason = (error.message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '')
    const at = error.linePos?.[0]
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`
    throw new UsageError(`${file}: not valid YAML${where}: ${reason}`)
  }
  return document.toJS()
}

/**
 * `get -o yaml` prints a config with its `revision`, so such a file can be applied as it is:
 * the revision is left out (apply checks the revision it reads itself).
 */
function withoutRevision(value: unknown): unknown {
  if (!isObject(value) || typeof value.revision !== 'number') return value
  const { revision: _, ...config } = value
  return config
}

/** The schema's own `error` text where it has one (as the service answers), else TypeBox's. */
function schemaMessage(error: { message: string; path: string; schema: unknown; value: unknown }): string {
  const custom = (error.schema as { error?: unknown }).error
  if (typeof custom === 'string') return custom
  if (error.value === undefined) return 'is missing'
  // The rule in words, as the README states it, rather than the pattern that checks it.
  if (error.path === '/dcname' && typeof error.value === 'string') return `expected a dcname: ${DCNAME_RULE}`
  // "Expected object" reads "expected object" like the rest; a pattern it quotes keeps its case.
  return error.message.charAt(0).toLowerCase() + error.message.slice(1)
}
