/**
 * What the README tells a new user, checked against the project: command lines that work in
 * every shell, and one number for each thing it measures.
 */
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TOKEN_FILE_POLL_MS } from '../../src/access/token-file-source.ts'
import { ROOT } from '../support/server.ts'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The unquoted words of a shell line (quoted strings and a trailing comment left out). */
function unquotedWords(line: string): string[] {
  const bare = line
    .replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/(^|\s)#.*$/, '')
    .trim()
  return bare === '' ? [] : bare.split(/\s+/)
}

describe('curl lines', () => {
  it('when a curl line of the README has a URL with a query, then the URL is quoted (zsh expands an unquoted ?)', () => {
    // The check itself: it finds an unquoted query, and not one that is quoted or in a comment.
    expect(unquotedWords("curl -s localhost:4999/configs?limit=2 -H 'a: b'")).toContain(
      'localhost:4999/configs?limit=2',
    )
    expect(unquotedWords("curl -s 'localhost:4999/configs?limit=2'   # what? here")).toEqual(['curl', '-s'])
    const curlLines = readme.split('\n').filter((line) => /(^|[\s`(])curl\s/.test(line))
    expect(curlLines.length).toBeGreaterThan(10)
    const unquoted = curlLines.filter((line) =>
      unquotedWords(line.replace(/^.*?curl\s/, 'curl ')).some((w) => w.includes('?')),
    )
    expect(unquoted).toEqual([])
  })
})

describe('the tokens file reload', () => {
  const seconds = TOKEN_FILE_POLL_MS / 1000
  const settingsRow = readme.split('\n').find((line) => line.startsWith('| `API_TOKENS_FILE` |')) ?? ''
  const accessSection = readme.slice(readme.indexOf('\n## Access control\n'), readme.indexOf('\n## Console\n'))

  it('when the settings table says how soon a change is in force, then it gives the check interval in seconds', () => {
    expect(settingsRow).toContain(`a change is in force within about ${seconds} s`)
  })

  it('when the access section says how soon a change is in force, then it gives the same number', () => {
    expect(accessSection.replaceAll(/\s+/g, ' ')).toContain(`is in force within about ${seconds} s`)
  })

  it('when the README speaks of the tokens file, then it gives no other time for a reload', () => {
    for (const text of [settingsRow, accessSection]) {
      expect(text).not.toMatch(/within 5 s|about a second|within a second/)
    }
  })
})

describe('configctl start', () => {
  it('when the README gives the start time of configctl, then it names what was timed and how', () => {
    const section = readme.slice(readme.indexOf('**Size and start.**'), readme.indexOf('\n## SQLite or PostgreSQL?'))
    const flat = section.replaceAll(/\s+/g, ' ')
    expect(flat).toContain('(`dist/configctl --help`: start, parse, print, exit, no request)')
    expect(flat).toContain('of CPU time (user plus system, median of 20 runs, `bun bench/cli-start.ts`)')
    expect(flat).not.toContain('about 0.05 s')
  })
})
