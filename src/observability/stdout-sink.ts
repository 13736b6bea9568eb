/**
 * Where log lines go: stdout, batched. Lines written during one turn of the event loop leave in
 * one write when the turn ends, so a busy server makes one system call for many access lines
 * instead of one each (a synchronous write per line costs more than the request it logs).
 *
 * A reader that falls behind (a stalled log collector) never stops the event loop. On Bun (this
 * file) stdout is non-blocking: what a full pipe refuses waits in a bounded queue and is retried
 * on a timer, and the lines that do not fit are dropped and counted (`droppedLines`, exported on
 * /metrics). On exit the queue is written out synchronously, waiting only while the reader keeps
 * taking bytes, so `process.exit` loses nothing when stdout is being read. Deno leaves stdout
 * blocking, so it gets a sink of its own with the same queue (deno-stdout-sink.ts).
 */
import { Buffer } from 'node:buffer'
import { writeSync } from 'node:fs'
import process from 'node:process'
import { clearTimeout, setImmediate, setTimeout } from 'node:timers'
import { type DenoStdout, denoStdoutSink } from './deno-stdout-sink.ts'
import {
  concat,
  countLines,
  EXIT_PATIENCE_MS,
  encoder,
  HIGH_WATER,
  MAX_QUEUED_BYTES,
  type SinkOptions,
  type StdoutSink,
} from './line-sink.ts'

export type { LineSink } from './line-sink.ts'

const STDOUT = 1
/** How often a full stdout is tried again (a failed non-blocking write costs one system call). */
const RETRY_MS = 10

/**
 * Deno's stdout, looked up rather than declared globally: this module also runs on Bun, where
 * there is no `Deno`.
 */
const denoStdout = (globalThis as { Deno?: { stdout: DenoStdout } }).Deno?.stdout

let shared: StdoutSink | undefined

/** The process-wide stdout sink (one queue and one exit hook, however many loggers use it). */
export function stdoutSink(): StdoutSink {
  if (!shared) {
    shared = denoStdout ? denoStdoutSink(denoStdout) : bunStdoutSink()
    process.on('exit', () => shared?.flushBeforeExit())
  }
  return shared
}

function bunStdoutSink(): StdoutSink {
  // Bun puts a piped stdout in non-blocking mode when it sets up `process.stdout`; without
  // that, a write to a full pipe would stop the whole thread until the reader comes back.
  // (test/observability/stdout-backpressure.test.ts fails if that ever stops being so.)
  void process.stdout
  return fdSink(STDOUT)
}

/** Lines the process-wide stdout sink dropped so far (0 when nothing logged to stdout). */
export function droppedStdoutLines(): number {
  return shared?.droppedLines() ?? 0
}

/**
 * The sink on one file descriptor, which should be non-blocking (a blocking one that fills up
 * stops the thread in write()). Exported for the benchmark and tests.
 */
export function fdSink(fd: number, options: SinkOptions = {}): StdoutSink {
  const maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES
  /** This turn's lines, not yet offered to stdout. */
  let batch = ''
  let scheduled = false
  // What a full stdout refused, in order: the unwritten rest of a batch (whose first line may
  // be half written), then whole lines that came while it waited.
  let head: Uint8Array | undefined
  let waiting: string[] = []
  let queuedBytes = 0
  let retry: ReturnType<typeof setTimeout> | undefined
  let dropped = 0

  /** Writes what stdout takes now; whatever it refuses becomes the head of the queue. */
  const offer = (bytes: Uint8Array): void => {
    const outcome = writeSome(fd, bytes)
    if (outcome === 'closed') {
      dropped += countLines(bytes)
      return
    }
    if (outcome < bytes.length) {
      head = bytes.subarray(outcome)
      queuedBytes = head.length
      retry = setTimeout(drain, RETRY_MS)
      // The queue never keeps a process alive: the exit hook has the last word on it.
      retry.unref?.()
    }
  }

  /** A retry: the head first, then everything that waited behind it, in one write. */
  const drain = (): void => {
    retry = undefined
    const rest = head as Uint8Array
    head = undefined
    const text = waiting.join('')
    waiting = []
    queuedBytes = 0
    offer(text === '' ? rest : concat(rest, encoder.encode(text)))
  }

  const flush = (done?: () => void): void => {
    scheduled = false
    if (batch !== '') {
      const text = batch
      batch = ''
      offer(encoder.encode(text))
    }
    done?.()
  }

  return {
    write(line) {
      if (head) {
        // Stdout is full. The newest lines are the ones dropped: what already waits is a
        // contiguous continuation of what was written (its first line may be half out and
        // must be finished), and an incident's first lines explain more than its last.
        const bytes = Buffer.byteLength(line)
        if (queuedBytes + bytes > maxQueuedBytes) dropped++
        else {
          waiting.push(line)
          queuedBytes += bytes
        }
        return
      }
      batch += line
      if (batch.length >= HIGH_WATER) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    flush,
    droppedLines: () => dropped,
    flushBeforeExit() {
      if (retry) clearTimeout(retry)
      retry = undefined
      const parts = [head ?? new Uint8Array(0), encoder.encode(waiting.join('') + batch)]
      head = undefined
      waiting = []
      batch = ''
      queuedBytes = 0
      const bytes = concat(parts[0] as Uint8Array, parts[1] as Uint8Array)
      dropped += countLines(bytes.subarray(writePatiently(fd, bytes)))
    },
  }
}

/** Bytes written before stdout was full (EAGAIN), or 'closed' when nobody reads it any more. */
function writeSome(fd: number, bytes: Uint8Array): number | 'closed' {
  let offset = 0
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset)
    } catch (error) {
      if ((error as { code?: string }).code === 'EAGAIN') return offset
      // EPIPE (the reader is gone) or a stdout that cannot be written at all.
      return 'closed'
    }
  }
  return offset
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/** Bytes written, waiting in 1 ms steps while stdout is full, until it stalls for too long. */
function writePatiently(fd: number, bytes: Uint8Array): number {
  let offset = 0
  let stalledSince = Date.now()
  while (offset < bytes.length) {
    const outcome = writeSome(fd, bytes.subarray(offset))
    if (outcome === 'closed') return offset
    if (outcome > 0) stalledSince = Date.now()
    offset += outcome
    if (offset < bytes.length) {
      if (Date.now() - stalledSince > EXIT_PATIENCE_MS) return offset
      Atomics.wait(pause, 0, 0, 1)
    }
  }
  return offset
}
