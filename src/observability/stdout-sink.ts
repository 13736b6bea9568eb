/**
 * Where log lines go: stdout, batched. Lines written during one turn of the event loop leave in
 * one write when the turn ends, so a busy server makes one system call for many access lines
 * instead of one each (a synchronous write per line costs more than the request it logs).
 * The batch is flushed synchronously on exit, so `process.exit` loses nothing.
 */
import { writeSync } from 'node:fs'
import process from 'node:process'
import { setImmediate } from 'node:timers'

export interface LineSink {
  write(line: string): void
  /** Writes out everything buffered, synchronously (pino's `logger.flush(done)` calls this). */
  flush(done?: () => void): void
}

const STDOUT = 1
/** Past this many buffered characters a batch is written without waiting for the turn to end. */
const HIGH_WATER = 64 * 1024

let shared: LineSink | undefined

/** The process-wide stdout sink (one buffer and one exit hook, however many loggers use it). */
export function stdoutSink(): LineSink {
  if (!shared) {
    shared = bufferedSink(STDOUT)
    process.on('exit', () => shared?.flush())
  }
  return shared
}

function bufferedSink(fd: number): LineSink {
  let buffer = ''
  let scheduled = false
  const flush = (done?: () => void) => {
    scheduled = false
    if (buffer !== '') {
      const text = buffer
      buffer = ''
      writeFully(fd, text)
    }
    done?.()
  }
  return {
    write(line) {
      buffer += line
      if (buffer.length >= HIGH_WATER) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(() => flush())
      }
    },
    flush,
  }
}

const encoder = new TextEncoder()
const pause = new Int32Array(new SharedArrayBuffer(4))

/** A pipe reader that falls behind makes a non-blocking stdout answer EAGAIN: wait and go on. */
function writeFully(fd: number, text: string): void {
  const bytes = encoder.encode(text)
  let offset = 0
  let stalls = 0
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset)
      stalls = 0
    } catch (error) {
      const code = (error as { code?: string }).code
      // Nobody reads stdout any more (EPIPE), or it stays full for seconds: drop the batch.
      if (code !== 'EAGAIN' || ++stalls > 5000) return
      Atomics.wait(pause, 0, 0, 1)
    }
  }
}
