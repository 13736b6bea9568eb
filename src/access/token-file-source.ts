/**
 * The tokens in force from API_TOKENS_FILE, re-read when the file changes.
 *
 * A Kubernetes Secret volume changes a file by an atomic symlink swap (`..data` is pointed at a
 * new timestamped directory; the file itself is a symlink through `..data`): inotify watches on
 * the old target see nothing, and fs.watch behaves differently on each runtime. So the file is
 * polled instead: each tick resolves the path and stats the target, and re-reads it only when
 * the target, its size or its mtime changed; a content hash then decides whether anything did.
 *
 * A file that fails to read, parse or validate on reload keeps the tokens in force (it never
 * locks everyone out and never opens anything) and is reported once per distinct content.
 */
import { createHash } from 'node:crypto'
import { realpathSync, statSync } from 'node:fs'
import { setInterval } from 'node:timers'
import { readTokenFile } from './token-file.ts'
import { TokenFileError, type TokenTable } from './token-table.ts'

export interface TokenFileEvents {
  /** A changed file was loaded and is in force now. */
  onReloaded?: (table: TokenTable) => void
  /** A changed file was refused; the previous tokens stay. The message never holds a secret. */
  onReloadFailed?: (message: string) => void
}

/** How often the file is checked: a change is in force within about this long (README, "Access control"). */
export const TOKEN_FILE_POLL_MS = 1000

export class TokenFileSource {
  #table: TokenTable
  #signature: string
  #contentHash: string
  /** Content hash (or error text) last reported as refused, so a broken file is logged once. */
  #lastRefused: string | undefined
  #timer: ReturnType<typeof setInterval> | undefined

  /** Reads the file now; throws a TokenFileError when it cannot be used (start-up). */
  constructor(
    readonly path: string,
    private readonly events: TokenFileEvents = {},
  ) {
    const { table, text } = readTokenFile(path)
    this.#table = table
    this.#signature = this.#stat() ?? ''
    this.#contentHash = hash(text)
  }

  get table(): TokenTable {
    return this.#table
  }

  /** Polls every `intervalMs`; the timer does not keep the process alive. */
  start(intervalMs = TOKEN_FILE_POLL_MS): this {
    this.#timer ??= setInterval(() => this.poll(), intervalMs).unref()
    return this
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** One tick: re-reads the file when its target or stat changed. */
  poll(): void {
    const signature = this.#stat()
    if (signature !== undefined && signature === this.#signature) return
    try {
      const { table, text } = readTokenFile(this.path)
      const contentHash = hash(text)
      this.#signature = signature ?? ''
      if (contentHash === this.#contentHash) return
      this.#table = table
      this.#contentHash = contentHash
      this.#lastRefused = undefined
      this.events.onReloaded?.(table)
    } catch (error) {
      if (!(error instanceof TokenFileError)) throw error
      // Remember the refused state so that the next ticks stay quiet until the file changes again.
      this.#signature = signature ?? ''
      if (this.#lastRefused === error.message + (signature ?? '')) return
      this.#lastRefused = error.message + (signature ?? '')
      this.events.onReloadFailed?.(error.message)
    }
  }

  /** Where the path leads now and what is there; undefined when it leads nowhere. */
  #stat(): string | undefined {
    try {
      const target = realpathSync(this.path)
      const stat = statSync(target)
      return `${target}:${stat.ino}:${stat.size}:${stat.mtimeMs}`
    } catch {
      return undefined
    }
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
