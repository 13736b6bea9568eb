/**
 * The README's settings table, generated from the declaration in src/settings.ts so that the two
 * cannot drift: `make readme` rewrites it, test/settings.test.ts fails while it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SETTING_LIST } from '../src/settings.ts'

export const README = join(import.meta.dir, '..', 'README.md')
const BEGIN = '<!-- settings table: generated from src/settings.ts by `make readme`, edit it there -->'
const END = '<!-- end of settings table -->'

const cell = (text: string) => text.replaceAll('|', '\\|')

export function settingsTable(): string {
  const header = ['| Variable | Default | Values | Meaning |', '| --- | --- | --- | --- |']
  const rows = SETTING_LIST.map(
    (s) => `| \`${s.env}\` | ${cell(s.shownDefault)} | ${cell(s.accepts)} | ${cell(s.doc)} |`,
  )
  return [...header, ...rows].join('\n')
}

/** The README split around the generated table (blank lines around it, so Markdown ends it). */
export function splitReadme(readme: string): { before: string; table: string; after: string } {
  const begin = readme.indexOf(BEGIN)
  const end = readme.indexOf(END)
  if (begin === -1 || end < begin) throw new Error(`README.md lacks the markers ${BEGIN} ... ${END}`)
  return {
    before: readme.slice(0, begin + BEGIN.length),
    table: readme.slice(begin + BEGIN.length, end).trim(),
    after: readme.slice(end),
  }
}

if (import.meta.main) {
  const readme = readFileSync(README, 'utf8')
  const { before, table, after } = splitReadme(readme)
  if (table === settingsTable()) console.log('README.md: settings table up to date')
  else {
    writeFileSync(README, `${before}\n\n${settingsTable()}\n\n${after}`)
    console.log('README.md: settings table rewritten')
  }
}
