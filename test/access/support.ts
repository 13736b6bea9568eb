/**
 * Helpers of the access tests: a tokens file laid out as a Kubernetes Secret volume lays it out
 * (and changed the way the kubelet changes it), and a process run until it exits.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/server.ts'
import { PROCESS_WAIT_MS, waitFor } from '../support/wait.ts'

export const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')

/**
 * A Secret volume: `<dir>/..<timestamp>/<file>` holds the data, `..data` links to that
 * directory and `<dir>/<file>` links through `..data`. `update` swaps it as the kubelet does:
 * a new timestamped directory, a new `..data_tmp` link renamed over `..data` (one atomic
 * step), then the old directory removed. The file is never written in place.
 */
export class SecretVolume {
  readonly dir = tempDir('secret-volume-')
  readonly path: string
  #generation = 0

  constructor(
    readonly fileName: string,
    content: string,
  ) {
    this.path = join(this.dir, fileName)
    const data = this.#writeGeneration(content)
    symlinkSync(data, join(this.dir, '..data'))
    symlinkSync(join('..data', fileName), this.path)
  }

  update(content: string): void {
    const old = readlinkSync(join(this.dir, '..data'))
    const data = this.#writeGeneration(content)
    symlinkSync(data, join(this.dir, '..data_tmp'))
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'))
    rmSync(join(this.dir, old), { recursive: true, force: true })
  }

  #writeGeneration(content: string): string {
    this.#generation++
    const name = `..2026_12_01_00_00_${String(this.#generation).padStart(2, '0')}.${process.pid}`
    mkdirSync(join(this.dir, name))
    writeFileSync(join(this.dir, name, this.fileName), content)
    return name
  }
}

/** Polls `check` until it returns something other than undefined, or throws after `ms` (a stop, see PROCESS_WAIT_MS). */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = PROCESS_WAIT_MS,
) {
  const found = await waitFor(
    async () => {
      const value = await check()
      return value === undefined ? undefined : { value }
    },
    ms,
    what,
  )
  return found.value
}
