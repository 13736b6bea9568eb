/**
 * API_TOKENS_FILE: named tokens (stored as SHA-256 hashes) and JWT subjects, each with a role
 * and optional dcname prefixes. YAML or JSON (JSON is YAML), checked against a `t` schema and
 * then for what a schema cannot say (duplicates, an admin limited to prefixes).
 *
 * Error messages name the place in the file (a JSON Pointer, or a line and column) and never
 * echo a value from it: an operator may have pasted a secret where its hash belongs.
 */
import { readFileSync } from 'node:fs'
import { getSchemaValidator, t } from 'elysia'
import { parseDocument } from 'yaml'
import { type Principal, RESERVED_ACTORS, ROLES, type Role } from '../configs/access.ts'
import { TokenFileError, type TokenTable } from './token-table.ts'

// What a tokens file becomes, kept importable from here as well as from token-table.ts (which
// the service loads without this module's parser).
export { digestOf, EMPTY_TABLE, findToken, type TokenEntry, TokenFileError, type TokenTable } from './token-table.ts'

const roleSchema = t.Union(
  ROLES.map((role) => t.Literal(role)),
  { error: `expected one of ${ROLES.join(', ')}` },
)
const prefixesSchema = t.Array(
  t.String({
    pattern: '^[A-Za-z0-9._-]+$',
    maxLength: 253,
    error: 'expected a dcname prefix (letters, digits, -, ., _)',
  }),
  { minItems: 1, error: 'expected a non-empty list of dcname prefixes (leave prefixes out for all)' },
)
const tokenSchema = t.Object(
  {
    name: t.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,252}$',
      error: 'expected a name of letters, digits and . _ : @ / - (it is the actor in logs and history)',
    }),
    sha256: t.String({ pattern: '^[0-9a-fA-F]{64}$', error: 'expected the 64 hex digits of a SHA-256 hash' }),
    role: roleSchema,
    prefixes: t.Optional(prefixesSchema),
  },
  { additionalProperties: false },
)
const subjectSchema = t.Object(
  {
    sub: t.String({ minLength: 1, maxLength: 1024, error: 'expected the JWT subject (sub) as a string' }),
    role: roleSchema,
    prefixes: t.Optional(prefixesSchema),
  },
  { additionalProperties: false },
)
const fileSchema = t.Object(
  { tokens: t.Optional(t.Array(tokenSchema)), subjects: t.Optional(t.Array(subjectSchema)) },
  { additionalProperties: false },
)
type FileContent = typeof fileSchema.static

const validator = getSchemaValidator(fileSchema, { normalize: false, additionalProperties: false })

const RESERVED_NAMES = new Set(RESERVED_ACTORS)

/** Reads and checks the file; throws a TokenFileError whose message starts with the path. */
export function readTokenFile(path: string): { table: TokenTable; text: string } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as { code?: string }).code
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code})`
    throw new TokenFileError('unreadable', `${path}: ${why}`)
  }
  try {
    return { table: parseTokenFile(text), text }
  } catch (error) {
    if (error instanceof TokenFileError) throw new TokenFileError(error.reason, `${path}: ${error.message}`)
    throw error
  }
}

/** The file's text as a table; throws a TokenFileError saying where it is wrong. */
export function parseTokenFile(text: string): TokenTable {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const syntax = document.errors[0]
  if (syntax) {
    const at = syntax.linePos?.[0]
    // The first line only: the rest quotes the file.
    const message = (syntax.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').slice(0, 200)
    throw invalid(at ? `line ${at.line}, column ${at.col}: ${message}` : message)
  }
  const content: unknown = document.toJS({ maxAliasCount: 100 })
  if (content === null || content === undefined) throw invalid('the file is empty: expected tokens: and/or subjects:')
  if (!validator?.Check(content)) throw invalid(schemaProblems(content))
  return toTable(content as FileContent)
}

function schemaProblems(content: unknown): string {
  const seen = new Map<string, string>()
  for (const error of validator?.Errors(content) ?? []) {
    const own = (error.schema as { error?: unknown } | undefined)?.error
    const message = typeof own === 'string' ? own : error.message
    if (!seen.has(error.path)) seen.set(error.path, message)
  }
  return describe([...seen].map(([pointer, message]) => ({ pointer, message })))
}

interface Problem {
  pointer: string
  message: string
}

function describe(problems: Problem[]): string {
  const shown = problems.slice(0, 3).map(({ pointer, message }) => `${pointer || '/'}: ${message}`)
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''
  return `${shown.join('; ')}${more}`
}

function toTable(content: FileContent): TokenTable {
  const problems: Problem[] = []
  const principal = (actor: string, role: Role, prefixes: string[] | undefined, pointer: string): Principal => {
    // An admin may do everything on every prefix; a limited one would be a writer in disguise.
    if (role === 'admin' && prefixes !== undefined) {
      problems.push({ pointer: `${pointer}/prefixes`, message: 'an admin covers every prefix: leave prefixes out' })
    }
    return prefixes === undefined ? { actor, role } : { actor, role, prefixes: [...new Set(prefixes)] }
  }
  const names = new Map<string, string>()
  const digests = new Set<string>()
  const tokens = (content.tokens ?? []).map((entry, i) => {
    const pointer = `/tokens/${i}`
    if (RESERVED_NAMES.has(entry.name)) problems.push({ pointer: `${pointer}/name`, message: 'is reserved' })
    if (names.has(entry.name)) problems.push({ pointer: `${pointer}/name`, message: 'is used by an earlier token' })
    const hex = entry.sha256.toLowerCase()
    if (digests.has(hex)) problems.push({ pointer: `${pointer}/sha256`, message: 'is the hash of an earlier token' })
    if (!names.has(entry.name)) names.set(entry.name, pointer)
    digests.add(hex)
    return { principal: principal(entry.name, entry.role, entry.prefixes, pointer), digest: Buffer.from(hex, 'hex') }
  })
  const subjects = new Map<string, Principal>()
  for (const [i, entry] of (content.subjects ?? []).entries()) {
    const pointer = `/subjects/${i}`
    if (subjects.has(entry.sub)) problems.push({ pointer: `${pointer}/sub`, message: 'is listed earlier' })
    if (RESERVED_NAMES.has(entry.sub)) problems.push({ pointer: `${pointer}/sub`, message: 'is reserved' })
    // Both become the actor in history and audit lines, which could no longer tell them apart.
    const token = names.get(entry.sub)
    if (token !== undefined)
      problems.push({ pointer: `${pointer}/sub`, message: `is also the name at ${token}: one actor for two callers` })
    subjects.set(entry.sub, principal(entry.sub, entry.role, entry.prefixes, pointer))
  }
  if (problems.length > 0) throw invalid(describe(problems))
  return { tokens, subjects }
}

function invalid(message: string): TokenFileError {
  return new TokenFileError('invalid', message)
}
