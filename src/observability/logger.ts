import pino from 'pino'
import type { LogLevel } from '../settings.ts'
import { redactQueries, redactQueryValues } from './query-redaction.ts'
import { type LineSink, stdoutSink } from './stdout-sink.ts'

/**
 * JSON lines to stdout: no transports, no worker threads, nothing on stderr. Header values are
 * never logged by this service; the redaction is a second line of defence for credentials in
 * anything that might be logged by mistake. Query values are censored in every string of a line,
 * its message and its error (message, stack, causes) included: see query-redaction.ts.
 */
export function createLogger(level: LogLevel, sink: LineSink = stdoutSink()) {
  const logger = pino(
    {
      level,
      base: BASE,
      timestamp: TIME,
      formatters: { level: (label) => ({ level: label }), log: redactLine },
      serializers: { err: (error) => redactQueries(pino.stdSerializers.err(error)), msg: redactQueryValues },
    },
    sink,
  )
  sinks.set(logger, sink)
  return logger
}

export type Logger = ReturnType<typeof createLogger>

const BASE = { service: 'config-service' }
const TIME = pino.stdTimeFunctions.isoTime
const sinks = new WeakMap<object, LineSink>()

/**
 * For the one line written per request: it skips pino's generic serializer (about half of a
 * line's cost). The caller passes its fields already encoded as JSON members (`"a":1,"b":"x"`),
 * and gets exactly the line `logger.info({ a: 1, b: 'x' }, msg)` would write: the same level,
 * time and base fields in the same order, to the same sink, subject to the same level.
 */
export function infoLineWriter(logger: Logger): (members: string, msg: string) => void {
  const sink = sinks.get(logger)
  if (!sink) throw new Error('infoLineWriter needs a logger made by createLogger')
  const base = JSON.stringify(BASE).slice(1, -1)
  const info = logger.levels.values.info as number
  // The time text changes once a millisecond, and lines come many to a millisecond under load.
  let at = Number.NaN
  let time = ''
  const messages = new Map<string, string>()
  return (members, msg) => {
    if (logger.levelVal > info) return
    const now = Date.now()
    if (now !== at) {
      at = now
      time = `,"time":"${new Date(now).toISOString()}"`
    }
    let message = messages.get(msg)
    if (message === undefined) {
      message = JSON.stringify(msg)
      if (messages.size < 100) messages.set(msg, message)
    }
    sink.write(`{"level":"info"${time},${base},${members},"msg":${message}}\n`)
  }
}

const CENSOR = '[redacted]'

function redactLine(line: Record<string, unknown>): Record<string, unknown> {
  return redactQueries(redactCredentials(line))
}

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
