/**
 * Where `configctl agent` puts configs, replaced atomically so a reader never sees half a file:
 *
 * - `--file PATH` (one config): the new text is written to a temp file beside PATH, synced,
 *   checked, then renamed over PATH.
 * - `--dir DIR` (one config or a prefix): as the kubelet updates a mounted ConfigMap. The files
 *   go into a new hidden folder `DIR/..<time>`; the symlink `DIR/..data` is swapped to it with
 *   one rename, and `DIR/<dcname>.json` are symlinks through `..data`, so every file of the
 *   folder changes together. The old folder is removed after the swap.
 *
 * A change is staged first (written where the `--check` command can read it), then committed or
 * discarded: a rejected change leaves what was there, the last good copy, untouched.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** dcname -> the file's text. */
export type Files = ReadonlyMap<string, string>

export interface Staged {
  /** Where the `--check` command finds the new files: CONFIG_FILE and/or CONFIG_DIR. */
  env: Record<string, string>
  commit(): void
  discard(): void
}

export interface AgentTarget {
  /** What is on disk now (the last good copy), by dcname. */
  current(): Map<string, string>
  stage(files: Files): Staged
  /** The path of one config's file as a workload reads it. */
  pathOf(dcname: string): string
}

export function fileTarget(path: string, dcname: string): AgentTarget {
  return {
    current: () => (existsSync(path) ? new Map([[dcname, readFileSync(path, 'utf8')]]) : new Map()),
    pathOf: () => path,
    stage(files) {
      mkdirSync(dirname(path), { recursive: true })
      const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
      writeSynced(temp, files.get(dcname) ?? '')
      return {
        env: { CONFIG_FILE: temp },
        commit: () => {
          renameSync(temp, path)
          syncDirectory(dirname(path))
        },
        discard: () => rmSync(temp, { force: true }),
      }
    },
  }
}

const DATA = '..data'

export function dirTarget(dir: string): AgentTarget {
  const fileName = (dcname: string) => `${dcname}.json`
  return {
    pathOf: (dcname) => join(dir, fileName(dcname)),
    current() {
      const files = new Map<string, string>()
      const data = join(dir, DATA)
      if (!existsSync(data)) return files
      for (const name of readdirSync(data)) {
        if (name.endsWith('.json')) files.set(name.slice(0, -5), readFileSync(join(data, name), 'utf8'))
      }
      return files
    },
    stage(files) {
      mkdirSync(dir, { recursive: true })
      const folder = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`
      const staged = join(dir, folder)
      mkdirSync(staged)
      for (const [dcname, text] of files) writeSynced(join(staged, fileName(dcname)), text)
      syncDirectory(staged)
      const only: Record<string, string> =
        files.size === 1 ? { CONFIG_FILE: join(staged, fileName([...files.keys()][0] as string)) } : {}
      return {
        env: { CONFIG_DIR: staged, ...only },
        commit: () => {
          const previous = existsSync(join(dir, DATA)) ? readlinkSync(join(dir, DATA)) : undefined
          const link = join(dir, `${DATA}_tmp`)
          rmSync(link, { force: true })
          symlinkSync(folder, link)
          renameSync(link, join(dir, DATA))
          for (const dcname of files.keys()) {
            const visible = join(dir, fileName(dcname))
            if (!existsSync(visible)) symlinkSync(join(DATA, fileName(dcname)), visible)
          }
          removeDangling(dir, files)
          syncDirectory(dir)
          if (previous !== undefined && previous !== folder)
            rmSync(join(dir, previous), { recursive: true, force: true })
        },
        discard: () => rmSync(staged, { recursive: true, force: true }),
      }
    },
  }
}

/** The links of configs that are gone (deleted, or out of the prefix now). */
function removeDangling(dir: string, files: Files): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..') || !name.endsWith('.json') || files.has(name.slice(0, -5))) continue
    try {
      if (readlinkSync(join(dir, name)).startsWith(DATA)) unlinkSync(join(dir, name))
    } catch {
      // Not a link of ours: leave it.
    }
  }
}

function writeSynced(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o644)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** A rename is durable once its folder is synced. */
function syncDirectory(path: string): void {
  try {
    const fd = openSync(path, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Some file systems refuse to sync a folder; the rename itself is atomic all the same.
  }
}
