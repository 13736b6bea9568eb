/**
 * API_TOKENS_FILE: what it may hold (YAML or JSON), how each mistake is reported (where in the
 * file, never a value from it), the hash lookup, and what the process does at start-up with a
 * file it cannot use: one line on stderr naming API_TOKENS_FILE.
 */
import { describe, expect, it, setDefaultTimeout } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseTokenFile } from '../../src/access/token-file.ts'
import { nestedPrefixes } from '../../src/access/token-file-prefixes.ts'
import { digestOf, findToken, TokenFileError } from '../../src/access/token-table.ts'
import { runUntilExit, tempDir } from '../support/server.ts'
import { sha256 } from './support.ts'

setDefaultTimeout(30_000)

const HASH_A = sha256('secret-a')
const HASH_B = sha256('secret-b')

const VALID_YAML = `
tokens:
  - name: ci-payments        # the actor
    sha256: ${HASH_A}
    role: writer
    prefixes: [payments-]
  - name: ops
    sha256: ${HASH_B.toUpperCase()}
    role: admin
subjects:
  - sub: system:serviceaccount:payments:deployer
    role: reader
    prefixes: [payments-, shared.]
`

function problemOf(text: string): string {
  try {
    parseTokenFile(text)
  } catch (error) {
    expect(error).toBeInstanceOf(TokenFileError)
    return (error as Error).message
  }
  throw new Error('the file was accepted')
}

describe('parseTokenFile', () => {
  it('when the file is valid YAML, then each token and subject becomes a principal with its role and prefixes', () => {
    const table = parseTokenFile(VALID_YAML)
    expect(table.tokens.map((entry) => entry.principal)).toEqual([
      { actor: 'ci-payments', role: 'writer', prefixes: ['payments-'] },
      { actor: 'ops', role: 'admin' },
    ])
    expect(table.tokens[1]?.digest.toString('hex')).toBe(HASH_B)
    expect(table.subjects.get('system:serviceaccount:payments:deployer')).toEqual({
      actor: 'system:serviceaccount:payments:deployer',
      role: 'reader',
      prefixes: ['payments-', 'shared.'],
    })
  })

  it('when the file is JSON, then it is read the same way', () => {
    const table = parseTokenFile(JSON.stringify({ tokens: [{ name: 'j', sha256: HASH_A, role: 'reader' }] }))
    expect(table.tokens.map((entry) => entry.principal)).toEqual([{ actor: 'j', role: 'reader' }])
    expect(table.subjects.size).toBe(0)
  })

  it('when only tokens, only subjects or empty lists are given, then that is a valid file', () => {
    expect(parseTokenFile('tokens: []\n').tokens).toEqual([])
    expect(parseTokenFile('subjects:\n  - sub: a\n    role: writer\n').subjects.size).toBe(1)
  })

  const syntax: [string, string, RegExp][] = [
    ['an unclosed flow map', 'tokens: [\n  {name: a', /^line 2, column \d+: /],
    ['a duplicate key', 'tokens: []\ntokens: []\n', /^line 2, column 1: Map keys must be unique/],
    ['a tab indentation', `tokens:\n\t- name: x\n`, /^line 2, column 1: /],
  ]
  it.each(syntax)('when the file has %s, then the error names the line and column', (_what, text, pattern) => {
    expect(problemOf(text)).toMatch(pattern)
  })

  const invalid: [string, string, string][] = [
    ['an empty file', '', 'the file is empty'],
    ['a list at the top', '- a\n', '/: Expected object'],
    ['an unknown top-level key', 'token: []\n', '/token: Unexpected property'],
    ['an unknown role', `tokens:\n  - {name: a, sha256: ${HASH_A}, role: boss}\n`, '/tokens/0/role: expected one of'],
    [
      'a hash that is no hash',
      'tokens:\n  - {name: a, sha256: s3cr3t-pasted-here, role: reader}\n',
      '/tokens/0/sha256',
    ],
    ['a missing name', `tokens:\n  - {sha256: ${HASH_A}, role: reader}\n`, '/tokens/0/name'],
    ['an empty prefixes list', `tokens:\n  - {name: a, sha256: ${HASH_A}, role: reader, prefixes: []}\n`, 'non-empty'],
    ['a prefix with a slash', `tokens:\n  - {name: a, sha256: ${HASH_A}, role: reader, prefixes: [a/b]}\n`, 'prefix'],
    [
      'an unknown token field',
      `tokens:\n  - {name: a, sha256: ${HASH_A}, role: reader, secret: x}\n`,
      '/tokens/0/secret',
    ],
    [
      'two tokens with one name',
      `tokens:\n  - {name: a, sha256: ${HASH_A}, role: reader}\n  - {name: a, sha256: ${HASH_B}, role: reader}\n`,
      '/tokens/1/name: is used by an earlier token',
    ],
    [
      'two tokens with one hash',
      `tokens:\n  - {name: a, sha256: ${HASH_A}, role: reader}\n  - {name: b, sha256: ${HASH_A}, role: writer}\n`,
      '/tokens/1/sha256: is the hash of an earlier token',
    ],
    [
      'an admin limited to prefixes',
      `tokens:\n  - {name: a, sha256: ${HASH_A}, role: admin, prefixes: [p-]}\n`,
      '/tokens/0/prefixes: an admin covers every prefix',
    ],
    ['a token named anonymous', `tokens:\n  - {name: anonymous, sha256: ${HASH_A}, role: reader}\n`, 'is reserved'],
    [
      'a token named seed',
      `tokens:\n  - {name: seed, sha256: ${HASH_A}, role: writer}\n`,
      '/tokens/0/name: is reserved',
    ],
    [
      'a token named unknown',
      `tokens:\n  - {name: unknown, sha256: ${HASH_A}, role: reader}\n`,
      '/tokens/0/name: is reserved',
    ],
    ['a subject named seed', 'subjects:\n  - {sub: seed, role: writer}\n', '/subjects/0/sub: is reserved'],
    ['a subject named unknown', 'subjects:\n  - {sub: unknown, role: reader}\n', '/subjects/0/sub: is reserved'],
    [
      'a subject that is also the name of a token',
      `tokens:\n  - {name: x, sha256: ${HASH_B}, role: reader}\n  - {name: ci, sha256: ${HASH_A}, role: reader}\nsubjects:\n  - {sub: ci, role: admin}\n`,
      '/subjects/0/sub: is also the name at /tokens/1',
    ],
    [
      'a subject listed twice',
      'subjects:\n  - {sub: s, role: reader}\n  - {sub: s, role: writer}\n',
      '/subjects/1/sub',
    ],
    ['a subject without a role', 'subjects:\n  - {sub: s}\n', '/subjects/0/role'],
  ]
  it.each(invalid)('when the file has %s, then the error points at it', (_what, text, expected) => {
    expect(problemOf(text)).toContain(expected)
  })

  it('when a value is wrong, then the message never repeats it (it may be a pasted secret)', () => {
    const message = problemOf('tokens:\n  - {name: a, sha256: my-very-secret-token-value, role: reader}\n')
    expect(message).not.toContain('my-very-secret-token-value')
  })

  it('when many entries are wrong, then three are named and the rest counted', () => {
    const entries = Array.from({ length: 5 }, (_, i) => `  - {name: t${i}, sha256: x, role: reader}`).join('\n')
    expect(problemOf(`tokens:\n${entries}\n`)).toEndWith('(and 2 more)')
  })
})

describe('nestedPrefixes', () => {
  const file = (...entries: string[]) => parseTokenFile(`tokens:\n${entries.join('\n')}\n`)
  const token = (name: string, prefixes: string, hash = sha256(name)) =>
    `  - {name: ${name}, sha256: ${hash}, role: writer, prefixes: [${prefixes}]}`

  it("when a token's prefix is a proper prefix of another token's with no delimiter at its end, then that token is named with both", () => {
    const table = file(token('a', 'team-a'), token('ab', 'team-ab'), token('c', 'other-'))
    expect(nestedPrefixes(table)).toEqual([{ actor: 'a', prefixes: ['team-a'], covered: ['team-ab'] }])
  })

  it("when a JWT subject's prefix covers a token's, then the subject is named", () => {
    const table = parseTokenFile(
      `tokens:\n${token('ab', 'team.ab')}\nsubjects:\n  - {sub: "system:sa", role: reader, prefixes: [team.a]}\n`,
    )
    expect(nestedPrefixes(table)).toEqual([{ actor: 'system:sa', prefixes: ['team.a'], covered: ['team.ab'] }])
  })

  it('when the shorter prefix ends in -, . or _, or both are equal, or one token holds both, then nothing is found', () => {
    const table = file(
      token('d1', 'x-'),
      token('d2', 'x-y'),
      token('e1', 'same'),
      token('e2', 'same'),
      token('f', 'own, own-more'),
      token('g', 'p_, p.'),
      token('h', 'p_q, p.q'),
    )
    expect(nestedPrefixes(table)).toEqual([])
  })
})

describe('findToken', () => {
  it('when a presented token hashes to an entry, then that entry is found, and nothing for any other token', () => {
    const { tokens } = parseTokenFile(VALID_YAML)
    expect(findToken(tokens, digestOf('secret-a'))?.actor).toBe('ci-payments')
    expect(findToken(tokens, digestOf('secret-b'))?.actor).toBe('ops')
    expect(findToken(tokens, digestOf('secret-c'))).toBeUndefined()
    expect(findToken(tokens, digestOf(''))).toBeUndefined()
    expect(findToken([], digestOf('secret-a'))).toBeUndefined()
  })
})

describe('a tokens file at start-up', () => {
  const start = (file: string) =>
    runUntilExit('bun', { DATABASE_URL: 'sqlite::memory:', API_TOKENS_FILE: file, LOG_LEVEL: 'error' })

  it('when the file is invalid, then the process exits with 2 and one line naming API_TOKENS_FILE, the path and the pointer', async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, `tokens:\n  - name: a\n    sha256: pasted-secret-value\n    role: reader\n`)
    const exit = await start(file)
    expect(exit.code).toBe(2)
    expect(exit.stderr).toEqual([
      `invalid setting API_TOKENS_FILE: ${file}: /tokens/0/sha256: expected the 64 hex digits of a SHA-256 hash`,
    ])
    expect(exit.stdout.join('\n')).not.toContain('pasted-secret-value')
  })

  it('when a token takes a name the service gives callers itself, then the process exits with 2 and one line naming it', async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(
      file,
      `tokens:\n  - {name: ok, sha256: ${HASH_B}, role: reader}\n  - {name: seed, sha256: ${HASH_A}, role: writer}\n`,
    )
    const exit = await start(file)
    expect(exit.code).toBe(2)
    expect(exit.stderr).toEqual([`invalid setting API_TOKENS_FILE: ${file}: /tokens/1/name: is reserved`])
  })

  it('when the file does not parse, then the line names the line and column', async () => {
    const file = join(tempDir(), 'tokens.yaml')
    writeFileSync(file, 'tokens: [\n')
    const exit = await start(file)
    expect(exit.code).toBe(2)
    expect(exit.stderr).toHaveLength(1)
    expect(exit.stderr[0]).toStartWith(`invalid setting API_TOKENS_FILE: ${file}: line `)
  })

  it('when the file is missing or unreadable, then the process exits with 1 and one line saying so', async () => {
    const missing = join(tempDir(), 'absent.yaml')
    const exit = await start(missing)
    expect(exit.code).toBe(1)
    expect(exit.stderr).toEqual([`cannot start: API_TOKENS_FILE: ${missing}: no such file`])

    const directory = tempDir()
    const asDirectory = await start(directory)
    expect(asDirectory.code).toBe(1)
    expect(asDirectory.stderr).toHaveLength(1)
    expect(asDirectory.stderr[0]).toStartWith(`cannot start: API_TOKENS_FILE: ${directory}: cannot be read`)
  })
})
