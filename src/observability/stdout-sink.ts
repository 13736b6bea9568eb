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
import { writeSync } from 'node:fs'
import process from 'node:process'
import { clearTimeout, setTimeout } from 'node:timers'
import { type DenoStdout, denoStdoutSink } from './deno-stdout-sink.ts'
import {
  concat,
  countLines,
  EXIT_PATIENCE_MS,
  encoder,
  LineQueue,
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
  /** What a full stdout refused of the last write (its first line may be half written). */
  let head: Uint8Array | undefined
  let retry: ReturnType<typeof setTimeout> | undefined

  /** Writes what stdout takes now; whatever it refuses is held, and lines wait behind it. */
  const offer = (bytes: Uint8Array): void => {
    const outcome = writeSome(fd, bytes)
    if (outcome === 'closed') {
      queue.dropped += countLines(bytes)
      return
    }
    if (outcome < bytes.length) {
      head = bytes.subarray(outcome)
      queue.hold(head.length)
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
    const text = queue.release()
    offer(text === '' ? rest : concat(rest, encoder.encode(text)))
  }

  const queue = new LineQueue(offer, options.maxQueuedBytes)
  return {
    write: (line) => queue.write(line),
    flush: queue.flush,
    droppedLines: () => queue.dropped,
    // A non-blocking stdout: the exit hook's own writes are bounded by the patience already.
    settle: () => Promise.resolve(),
    flushBeforeExit() {
      if (retry) clearTimeout(retry)
      retry = undefined
      const bytes = concat(head ?? new Uint8Array(0), encoder.encode(queue.takeAll()))
      head = undefined
      queue.dropped += countLines(bytes.subarray(writePatiently(fd, bytes)))
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
