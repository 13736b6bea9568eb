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
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'apiToken'],
        censor: '[redacted]',
      },
    },
    sink,
  )
}

export type Logger = ReturnType<typeof createLogger>
