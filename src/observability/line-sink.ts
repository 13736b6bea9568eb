/**
 * What both stdout sinks are and share (stdout-sink.ts on Bun, deno-stdout-sink.ts on Deno):
 * the interface the logger writes to, the queue of lines (LineQueue), the bounds of the queue
 * and the exit, and byte helpers. The sinks differ only in how bytes reach stdout.
 */
import { Buffer } from 'node:buffer'
import { setImmediate } from 'node:timers'

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
  /**
   * Waits, at most `patienceMs`, until stdout took what is queued: the last step of a shutdown.
   * A reader that took nothing meanwhile counts as stopped, and the exit gives the rest up.
   */
  settle(patienceMs: number): Promise<void>
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

/**
 * The lines on their way to stdout. A turn's lines leave as one batch, offered when the turn
 * ends (or past HIGH_WATER). While stdout is busy with bytes it has not taken yet (the sink says
 * so with `hold`), new lines wait behind them, whole and in order, up to `maxQueuedBytes` in all;
 * past that the newest are dropped and counted. The newest, because what already waits is a
 * contiguous continuation of what was written (its first line may be half out and must be
 * finished), and an incident's first lines explain more than its last.
 */
export class LineQueue {
  /** Lines given up: past the bound here, or (counted by the sink) refused by a closed stdout. */
  dropped = 0
  /** This turn's lines, not yet offered; only ever filled while stdout is not busy. */
  private batch = ''
  private scheduled = false
  private busy = false
  private waiting: string[] = []
  /** What stdout still has to take, and the lines waiting behind it: what the bound holds. */
  private queuedBytes = 0

  constructor(
    private readonly offer: (bytes: Uint8Array) => void,
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {}

  write(line: string): void {
    if (this.busy) {
      const bytes = Buffer.byteLength(line)
      if (this.queuedBytes + bytes > this.maxQueuedBytes) this.dropped++
      else {
        this.waiting.push(line)
        this.queuedBytes += bytes
      }
      return
    }
    this.batch += line
    if (this.batch.length >= HIGH_WATER) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  /** Offers this turn's lines now (pino's `logger.flush(done)` calls this through the sink). */
  readonly flush = (done?: () => void): void => {
    this.scheduled = false
    if (this.batch !== '') {
      const text = this.batch
      this.batch = ''
      this.offer(encoder.encode(text))
    }
    done?.()
  }

  /** Stdout is busy with `pendingBytes` it has not taken yet: lines wait behind them from now. */
  hold(pendingBytes: number): void {
    this.busy = true
    this.queuedBytes = pendingBytes
  }

  /** Stdout took what it was busy with: the lines that waited, as one text, to offer next. */
  release(): string {
    this.busy = false
    const text = this.waiting.join('')
    this.waiting = []
    this.queuedBytes = 0
    return text
  }

  /** Everything not yet offered, the waiting lines before this turn's (the exit hook's last write). */
  takeAll(): string {
    const text = this.release() + this.batch
    this.batch = ''
    return text
  }
}
