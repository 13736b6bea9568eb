import pino from 'pino'
import type { LogLevel } from '../settings.ts'

/** JSON lines straight to stdout: no transports, no worker threads, nothing on stderr. */
export function createLogger(level: LogLevel) {
  return pino({
    level,
    base: { service: 'config-service' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  })
}

export type Logger = ReturnType<typeof createLogger>
