/**
 * When history retention runs, for either backend. Writes never wait for it: a store tells it
 * which configs it wrote (`wrote`), and a timer prunes those in the background, in chunks
 * between which the event loop serves requests. A config that still holds more than `keep`
 * entries afterwards (its older ones are not yet old enough, or still among the newest writes
 * watch replay needs) waits in a backlog that later passes revisit a bounded number at a time,
 * so that entries which become droppable only as time passes go too.
 */
import { setImmediate } from 'node:timers'

export interface RetentionTarget {
  /** Drops what retention allows of these configs; returns those still holding more than `keep` entries. */
  prune(dcnames: string[]): Promise<string[]>
  /** Every config holding more than `keep` entries: read once, by the first pass. */
  overKeep(): Promise<string[]>
}

/** Configs pruned per chunk (one chunk per turn of the event loop). */
const CHUNK = 250
/** Configs of the backlog revisited per pass. */
const BACKLOG_PER_PASS = 1000

export class RetentionSchedule {
  private written = new Set<string>()
  private readonly backlog = new Set<string>()
  private loaded = false
  private running: Promise<void> | undefined
  private closed = false
  private readonly timer: ReturnType<typeof setInterval>

  constructor(
    private readonly target: RetentionTarget,
    intervalMs: number,
  ) {
    // A tick while a pass runs is skipped: passes never pile up behind a slow database.
    this.timer = setInterval(() => {
      if (!this.running) void this.pass()
    }, intervalMs)
    // Retention alone must not keep a process alive that is otherwise done.
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  /** A write of `dcname` committed: it may have made older entries of it droppable. */
  wrote(dcname: string): void {
    this.written.add(dcname)
  }

  /** A pass once the running one (if any) is done: it sees every write committed before the call. */
  pass(): Promise<void> {
    if (this.closed) return Promise.resolve()
    const run = (this.running ?? Promise.resolve()).then(() => this.run())
    this.running = run
    void run.finally(() => {
      if (this.running === run) this.running = undefined
    })
    return run
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.running
  }

  private async run(): Promise<void> {
    try {
      if (!this.loaded) {
        for (const dcname of await this.target.overKeep()) this.backlog.add(dcname)
        this.loaded = true
      }
      const names = this.written
      this.written = new Set()
      let revisited = 0
      for (const dcname of this.backlog) {
        if (revisited++ >= BACKLOG_PER_PASS) break
        names.add(dcname)
      }
      await this.pruneAll([...names])
    } catch {
      // The store is closed or unreachable: the next pass tries again; nothing was lost.
    }
  }

  private async pruneAll(names: string[]): Promise<void> {
    for (let i = 0; i < names.length && !this.closed; i += CHUNK) {
      const chunk = names.slice(i, i + CHUNK)
      // Taken out and put back at the end: the backlog is visited round robin.
      for (const dcname of chunk) this.backlog.delete(dcname)
      let still: string[]
      try {
        still = await this.target.prune(chunk)
      } catch (error) {
        // Not pruned: kept for the next pass.
        for (const dcname of names.slice(i)) this.backlog.add(dcname)
        throw error
      }
      for (const dcname of still) this.backlog.add(dcname)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
