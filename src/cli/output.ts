/**
 * What configctl prints: data as a table (for people), JSON (exactly the API's) or YAML, and
 * errors as one line on stderr. Each write goes straight to the file descriptor, so a line is
 * out before the next event is awaited (`watch -o json` piped into another program).
 */
import { writeSync } from 'node:fs'
import { stringify } from 'yaml'
import { ProblemError, UnreachableError } from '../client/index.ts'

export type Format = 'table' | 'json' | 'yaml'
export const FORMATS: readonly Format[] = ['table', 'json', 'yaml']

/** A mistake in how configctl was called or in its input files: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

export function out(text: string): void {
  writeAll(1, text.endsWith('\n') ? text : `${text}\n`)
}

export function err(text: string): void {
  writeAll(2, text.endsWith('\n') ? text : `${text}\n`)
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text)
  let written = 0
  while (written < bytes.length) {
    try {
      written += writeSync(fd, bytes, written)
    } catch (error) {
      // A non-blocking pipe that is full: wait for the reader rather than lose the line.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
      Bun.sleepSync(1)
    }
  }
}

/** JSON as the API sends it: compact, keys in the order received. */
export function json(value: unknown): string {
  return JSON.stringify(value)
}

export function yaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 })
}

/** Columns padded to their widest cell; the last one runs free. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('   ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** The data in the chosen format; `rows` makes the table. */
export function render(format: Format, data: unknown, headers: string[], rows: () => string[][]): string {
  if (format === 'json') return json(data)
  if (format === 'yaml') return yaml(data)
  return table(headers, rows())
}

/**
 * One line for what went wrong: the problem's detail (and its field errors), with what to do
 * about a missing or refused token.
 */
export function errorLine(error: unknown, tokenGiven: boolean, about?: string): string {
  return `error: ${about === undefined ? '' : `${about}: `}${errorMessage(error, tokenGiven)}`
}

function errorMessage(error: unknown, tokenGiven: boolean): string {
  if (error instanceof ProblemError) {
    const fields = error.errors.map((field) => `${field.pointer || '/'}: ${field.message}`)
    let line = `${error.detail}${fields.length > 0 ? ` (${fields.join('; ')})` : ''}`
    if (error.status === 401) {
      line += tokenGiven
        ? ' (the service does not accept this token: check CONFIGCTL_TOKEN or --token)'
        : ' (the service needs a token: set CONFIGCTL_TOKEN or pass --token)'
    }
    if (error.status === 403) line += ' (the token lacks the role or the dcname prefix for this)'
    return line
  }
  if (error instanceof UnreachableError) return `${error.message} (is CONFIGCTL_URL or --url right?)`
  return error instanceof Error ? error.message : String(error)
}

/** Colour on a terminal unless NO_COLOR is set (no-color.org); plain when piped. */
export function useColour(): boolean {
  return process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === ''
}

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', bold: '\x1b[1m', reset: '\x1b[0m' }

/** A unified diff with removed lines red, added green, hunk headers cyan and file headers bold. */
export function colourDiff(diff: string): string {
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('---') || line.startsWith('+++')) return `${ANSI.bold}${line}${ANSI.reset}`
      if (line.startsWith('@@')) return `${ANSI.cyan}${line}${ANSI.reset}`
      if (line.startsWith('-')) return `${ANSI.red}${line}${ANSI.reset}`
      if (line.startsWith('+')) return `${ANSI.green}${line}${ANSI.reset}`
      return line
    })
    .join('\n')
}
