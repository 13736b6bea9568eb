/**
 * The real service writing its log to a pipe whose reader stops reading (a stalled log
 * collector): requests keep being answered, the lines past the sink's bound are counted
 * on /metrics, and once the reader resumes every queued line arrives whole and in order. And
 * when told to stop while the reader has stopped, the service exits without waiting for it.
 *
 * The pipe is a named FIFO the test opens itself, so that nothing reads it unless the test does
 * (a runtime's own pipe for a child may be drained into memory behind the test's back). Bun makes
 * a piped stdout non-blocking; on Deno it stays blocking, where one synchronous write to the
 * full pipe would stop the whole service: the same scenario runs on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { closeSync, constants, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { parseExposition, sampleValue } from '../support/exposition-parser.ts'
import { ROOT, type Runtime, runtimeCommand, tempDir } from '../support/server.ts'

type Line = Record<string, unknown>

/** Clipped to 512 characters in the access line, so each line is about 1.2 kB. */
const PAD = 'p'.repeat(480)
const USER_AGENT = `backpressure-test/${'u'.repeat(490)}`
/** Well past what a pipe (64 KiB) and the sink's queue (1 MiB) hold together. */
const REQUESTS = 1500
/**
 * Nobody reads the pipe while requests run, so a service whose logging blocked would never answer
 * them: that they are answered at all is the check. This only bounds how long a failure takes.
 */
const GIVE_UP_MS = 30_000
/** Past what the pipe holds (64 KiB), within the sink's queue. */
const EXIT_REQUESTS = 200

/** Reads the FIFO only when asked: between two calls, nobody drains the pipe. */
class FifoReader {
  private pending = ''
  readonly lines: string[] = []
  private readonly chunk = new Uint8Array(64 * 1024)
  private readonly decoder = new TextDecoder()

  constructor(private readonly fd: number) {}

  /** Reads whatever the pipe holds now; returns false once the writer has closed it. */
  readAvailable(): boolean {
    for (;;) {
      let n: number
      try {
        n = readSync(this.fd, this.chunk, 0, this.chunk.length, null)
      } catch (error) {
        if ((error as { code?: string }).code === 'EAGAIN') return true
        throw error
      }
      if (n === 0) return false
      this.pending += this.decoder.decode(this.chunk.subarray(0, n), { stream: true })
      let newline = this.pending.indexOf('\n')
      while (newline !== -1) {
        this.lines.push(this.pending.slice(0, newline))
        this.pending = this.pending.slice(newline + 1)
        newline = this.pending.indexOf('\n')
      }
    }
  }

  /** Keeps reading until nothing more comes for a while (the writer's queue is empty). */
  async readUntilQuiet(quietMs = 300): Promise<void> {
    let count = -1
    while (count !== this.lines.length) {
      count = this.lines.length
      await Bun.sleep(quietMs)
      this.readAvailable()
    }
  }

  /** Keeps reading until a line satisfies `found` (bounded). */
  async readUntil(found: (line: Line) => boolean, timeoutMs = 30_000): Promise<Line> {
    const deadline = Date.now() + timeoutMs
    let checked = 0
    for (;;) {
      this.readAvailable()
      for (; checked < this.lines.length; checked++) {
        const line = JSON.parse(this.lines[checked] as string) as Line
        if (found(line)) return line
      }
      if (Date.now() > deadline) throw new Error(`no such line in ${this.lines.length} lines`)
      await Bun.sleep(5)
    }
  }
}

const pathOf = (n: number) => `/unrouted/line-${String(n).padStart(6, '0')}-${PAD}`

/** The numbers of the test's request lines, in the order they arrived. */
const lineNumbers = (lines: Line[]) =>
  lines
    .filter((line) => line.msg === 'request' && String(line.path).startsWith('/unrouted/line-'))
    .map((line) => Number(String(line.path).slice('/unrouted/line-'.length, '/unrouted/line-'.length + 6)))

interface ServiceOnFifo {
  child: Subprocess<'ignore', number, 'pipe'>
  reader: FifoReader
  url: string
}

/** The real service with its stdout on a FIFO only the test reads, once it is listening. */
async function startOnFifo(runtime: Runtime, env: Record<string, string> = {}): Promise<ServiceOnFifo> {
  const dir = tempDir()
  const fifo = join(dir, 'stdout')
  execFileSync('mkfifo', [fifo])
  // Reader first and non-blocking, so that opening the writer does not wait for it.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const writeFd = openSync(fifo, constants.O_WRONLY)
  const child = Bun.spawn(runtimeCommand(runtime), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      SERVE_PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'configs.db')}`,
      ...env,
    },
    stdin: 'ignore',
    stdout: writeFd,
    stderr: 'pipe',
  })
  closeSync(writeFd)
  const reader = new FifoReader(readFd)
  const listening = await reader.readUntil((line) => line.msg === 'listening')
  return { child, reader, url: `http://127.0.0.1:${listening.port}` }
}

async function get(url: string, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}${path}`, {
    headers: { 'user-agent': USER_AGENT },
    signal: AbortSignal.timeout(GIVE_UP_MS),
  })
  return { status: response.status, text: await response.text() }
}

for (const runtime of ['bun', 'deno'] as Runtime[]) {
  describe(`stdout that stops reading, on ${runtime}`, () => {
    let service: ServiceOnFifo

    beforeAll(async () => {
      service = await startOnFifo(runtime)
    })

    afterAll(async () => {
      service?.child.kill('SIGKILL')
      await service?.child.exited
    })

    it('when the log reader stalls, then requests are still answered, the lines past the bound are counted, and after it resumes the rest arrive whole and in order', async () => {
      service.reader.readAvailable()
      const before = service.reader.lines.length

      // Nobody reads the pipe from here on: past 64 KiB, every answer comes only if logging
      // does not wait for the reader.
      for (let n = 1; n <= REQUESTS; n++) expect((await get(service.url, pathOf(n))).status).toBe(404)

      const scrape = await get(service.url, '/metrics')
      const dropped = sampleValue(parseExposition(scrape.text), 'log_lines_dropped_total') ?? 0
      expect(dropped).toBeGreaterThan(0)

      // The reader resumes and takes the queue; one more request shows that stdout flows again.
      await service.reader.readUntilQuiet()
      const after = await get(service.url, pathOf(REQUESTS + 1))
      expect(after.status).toBe(404)
      await service.reader.readUntil((line) => line.msg === 'request' && line.path === pathOf(REQUESTS + 1))

      const lines = service.reader.lines.slice(before).map((text) => JSON.parse(text) as Line)
      const numbers = lineNumbers(lines)
      // The newest lines were dropped: an unbroken run from the first, then the one sent after.
      const kept = numbers.length - 1
      expect(numbers).toEqual([...Array.from({ length: kept }, (_, i) => i + 1), REQUESTS + 1])
      expect(kept + dropped).toBe(REQUESTS)
    }, 120_000)
  })

  describe(`exit while stdout has stopped reading, on ${runtime}`, () => {
    let service: ServiceOnFifo

    beforeAll(async () => {
      service = await startOnFifo(runtime)
    })

    afterAll(async () => {
      service?.child.kill('SIGKILL')
      await service?.child.exited
    })

    it('when the log reader has stopped and SIGTERM arrives, then the process exits without waiting for it and the lines it wrote are whole and in order', async () => {
      const { child, reader, url } = service
      reader.readAvailable()
      const before = reader.lines.length

      // Nobody reads the pipe from here on: it fills, and the rest waits in the sink.
      for (let n = 1; n <= EXIT_REQUESTS; n++) expect((await get(url, pathOf(n))).status).toBe(404)

      // Nobody reads until the process is gone: an exit that waited for the reader would never
      // end (the test's timeout fails it), one that gives up ends with 0.
      child.kill('SIGTERM')
      expect(await child.exited).toBe(0)

      // What reached the pipe: whole lines (a last one cut short stays pending, unparsed), an
      // unbroken run from the first request; what the exit gave up is at the end.
      await reader.readUntilQuiet()
      const lines = reader.lines.slice(before).map((text) => JSON.parse(text) as Line)
      const numbers = lineNumbers(lines)
      expect(numbers.length).toBeGreaterThan(0)
      expect(numbers.length).toBeLessThan(EXIT_REQUESTS)
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1))
    }, 60_000)
  })
}
