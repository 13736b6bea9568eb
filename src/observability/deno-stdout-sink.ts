/**
 * The stdout sink on Deno. Deno leaves a piped stdout blocking, so one synchronous write to a
 * full pipe would stop the event loop, and every request with it, until the reader comes back.
 * `Deno.stdout.write` does that wait on a thread of its own and resolves once the bytes are in
 * the pipe. So here each turn's batch leaves as one asynchronous write, one write at a time, and
 * the lines that come while a write is in flight wait behind it in the same bounded queue as on
 * Bun (LineQueue in line-sink.ts): whole and in order, the newest dropped and counted past the bound.
 */
import {
  concat,
  countLines,
  EXIT_PATIENCE_MS,
  encoder,
  LineQueue,
  type SinkOptions,
  type StdoutSink,
} from './line-sink.ts'

/** The part of `Deno.stdout` the sink uses. */
export interface DenoStdout {
  /** Resolves with the bytes written: all of them on a blocking pipe, which waits for room. */
  write(bytes: Uint8Array): Promise<number>
  /** Writes after the `write` in flight, if any, has finished (both take Deno's stdout lock). */
  writeSync(bytes: Uint8Array): number
}

export function denoStdoutSink(stdout: DenoStdout, options: SinkOptions = {}): StdoutSink {
  /** The bytes of the write in flight, and when it started; undefined while stdout is idle. */
  let inFlight: Uint8Array | undefined
  let inFlightSince = 0
  /** Set once a settle ran out of patience: the exit then writes nothing more. */
  let stopped = false
  /** Called once stdout is idle with nothing queued, while a settle waits for it. */
  let idle: (() => void) | undefined

  const offer = (bytes: Uint8Array): void => {
    inFlight = bytes
    inFlightSince = Date.now()
    queue.hold(bytes.length)
    stdout.write(bytes).then(
      (written) => next(bytes.subarray(written)),
      () => {
        // BrokenPipe (the reader is gone) or a stdout that cannot be written at all.
        queue.dropped += countLines(bytes)
        next(new Uint8Array(0))
      },
    )
  }

  /** The write is over: what it left unwritten and what waited behind it leave in the next one. */
  const next = (rest: Uint8Array): void => {
    inFlight = undefined
    const text = queue.release()
    const bytes = text === '' ? rest : concat(rest, encoder.encode(text))
    if (bytes.length > 0) offer(bytes)
    else idle?.()
  }

  const queue = new LineQueue(offer, options.maxQueuedBytes)
  return {
    write: (line) => queue.write(line),
    flush: queue.flush,
    droppedLines: () => queue.dropped,
    settle(patienceMs) {
      queue.flush()
      if (!inFlight) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          idle = undefined
          resolve()
        }
        const timer = setTimeout(() => {
          stopped = true
          done()
        }, patienceMs)
        idle = done
      })
    },
    flushBeforeExit() {
      const rest = encoder.encode(queue.takeAll())
      // An exit hook can only write synchronously, and a synchronous write to a blocking stdout
      // has no time limit: it returns once the reader makes room, or never. So the exit writes
      // only while stdout looks alive: no write in flight, or one younger than the patience
      // (the exit's bytes then follow it, in order; this is how the last lines of a shutdown
      // reach a healthy reader). A write pending longer means the reader has stopped: the rest
      // is given up and counted, the write in flight included, rather than holding the exit
      // until the reader resumes. A shutdown settles first (settle), so that a reader that
      // stopped just before the exit, with a write in flight younger than the patience, is
      // known to have stopped here too.
      if (stopped || (inFlight && Date.now() - inFlightSince > EXIT_PATIENCE_MS)) {
        queue.dropped += countLines(inFlight ?? new Uint8Array(0)) + countLines(rest)
        return
      }
      queue.dropped += countLines(rest.subarray(writeAll(stdout, rest)))
    },
  }
}

/** Bytes written before stdout failed (BrokenPipe: nobody reads it any more) or took none. */
function writeAll(stdout: DenoStdout, bytes: Uint8Array): number {
  let offset = 0
  try {
    while (offset < bytes.length) {
      const written = stdout.writeSync(bytes.subarray(offset))
      if (written === 0) break
      offset += written
    }
  } catch {
    // What is left is counted by the caller.
  }
  return offset
}
