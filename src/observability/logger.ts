import pino from 'pino'
import type { LogLevel } from '../settings.ts'
import { type LineSink, stdoutSink } from './stdout-sink.ts'

/**
 * JSON lines to stdout: no transports, no worker threads, nothing on stderr. Header values are
 * never logged by this service; the redaction is a second line of defence for credentials in
 * anything that might be logged by mistake.
 */
export function createLogger(level: LogLevel, sink: LineSink = stdoutSink()) {
  return pino(
    {
      level,
      base: { service: 'config-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: redactCredentials },
    },
    sink,
  )
}

export type Logger = ReturnType<typeof createLogger>

const CENSOR = '[redacted]'

/**
 * Censors `authorization` and `apiToken`, `*.authorization` and `*.headers.authorization` (the
 * paths pino's `redact` option was given), copying only what it changes. pino's `redact`
 * re-parsed its paths and cloned on every line: that cost more than the rest of an access line
 * (bench/README.md), and this costs a few key checks.
 */
export function redactCredentials(line: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined
  for (const key of Object.keys(line)) {
    const value = line[key]
    let redacted: unknown = value
    if (key === 'authorization' || key === 'apiToken') redacted = value === undefined ? value : CENSOR
    else if (isRecord(value)) {
      redacted = censorKey(value, 'authorization')
      const headers = (redacted as Record<string, unknown>).headers
      if (isRecord(headers) && Object.hasOwn(headers, 'authorization')) {
        redacted = { ...(redacted as Record<string, unknown>), headers: censorKey(headers, 'authorization') }
      }
    }
    if (redacted !== value) {
      copy ??= { ...line }
      copy[key] = redacted
    }
  }
  return copy ?? line
}

function censorKey(record: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.hasOwn(record, key) && record[key] !== undefined ? { ...record, [key]: CENSOR } : record
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
