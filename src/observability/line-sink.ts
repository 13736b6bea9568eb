/**
 * What both stdout sinks are and share (stdout-sink.ts on Bun, deno-stdout-sink.ts on Deno):
 * the interface the logger writes to, the bounds of the queue and the exit, and byte helpers.
 */

export interface LineSink {
  write(line: string): void
  /** Writes out what stdout takes now, without waiting (pino's `logger.flush(done)` calls this). */
  flush(done?: () => void): void
}

export interface StdoutSink extends LineSink {
  /** Lines given up since start: past the queue's bound, or refused by a closed stdout. */
  droppedLines(): number
  /** Writes out what is queued before the process exits (the exit hook); never waits forever. */
  flushBeforeExit(): void
}

export interface SinkOptions {
  /** Bytes a stalled stdout may keep waiting, beyond which new lines are dropped. */
  maxQueuedBytes?: number
}

/** Past this many buffered characters a batch is written without waiting for the turn to end. */
export const HIGH_WATER = 64 * 1024
/** A few seconds of access lines at full load: enough for a collector's hiccup, not a leak. */
export const MAX_QUEUED_BYTES = 1024 * 1024
/** On exit, the reader may take this long to make room before the rest is given up. */
export const EXIT_PATIENCE_MS = 200

export const encoder = new TextEncoder()
const NEWLINE = 10

/** Lines that start or continue in these bytes (a half-written line counts). */
export function countLines(bytes: Uint8Array): number {
  let lines = 0
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === NEWLINE) lines++
  return lines
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b
  if (b.length === 0) return a
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a)
  joined.set(b, a.length)
  return joined
}
