/**
 * A real file system that fills up: a tmpfs of a few MiB mounted for one test file (Linux, as
 * root: the CI container runs as root). `fill` writes a filler file until the kernel answers
 * ENOSPC, `free` removes it. Nothing is simulated: SQLite's writes meet a full disk.
 */
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SmallDisk {
  dir: string
  /** Takes every free byte left. */
  fill(): void
  /** Gives them back. */
  free(): void
  dispose(): void
}

export function mountSmallDisk(sizeMiB = 4): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-'))
  const mount = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stderr: 'pipe' })
  if (mount.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`a full disk needs a tmpfs mount (root on Linux): ${mount.stderr.toString().trim()}`)
  }
  const filler = join(dir, 'filler')
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a')
      const chunk = new Uint8Array(4096)
      try {
        for (;;) writeSync(fd, chunk)
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error
      } finally {
        closeSync(fd)
      }
    },
    free() {
      unlinkSync(filler)
    },
    dispose() {
      Bun.spawnSync(['umount', '-l', dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
