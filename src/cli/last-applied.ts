/**
 * The last-applied record of each config: what `apply` last took from a file, which the next
 * apply needs to tell a key removed from the file (remove it) from one set by someone else (keep
 * it). kubectl keeps it in an annotation of the object; a config has no such field, and a
 * reserved metadata key would reach every reader of the config (the console, search, watchers,
 * the programs configured by it) and every schema check. So it is kept on this machine, one file
 * per config per service URL:
 *
 *   $CONFIGCTL_STATE_DIR, else $XDG_STATE_HOME/configctl, else ~/.local/state/configctl
 *     last-applied/<service URL as a file name>/<dcname>.json
 *
 * Files are written whole (a temporary file renamed over the old one) and readable by the user
 * only: a config may hold what others should not read.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { type Config, isObject } from '../configs/model.ts'

export class LastApplied {
  readonly dir: string

  constructor(serviceUrl: string, env: NodeJS.ProcessEnv = process.env) {
    this.dir = join(stateDir(env), 'last-applied', fileNameOf(serviceUrl))
  }

  /** The record, or undefined when there is none (or it cannot be read as a config). */
  read(dcname: string): Config | undefined {
    try {
      const value: unknown = JSON.parse(readFileSync(this.path(dcname), 'utf8'))
      return isObject(value) && isObject(value.metadata) ? (value as Config) : undefined
    } catch {
      return undefined
    }
  }

  write(config: Config): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const path = this.path(config.dcname)
    const temporary = `${path}.${process.pid}.tmp`
    writeFileSync(temporary, `${JSON.stringify(config)}\n`, { mode: 0o600 })
    renameSync(temporary, path)
  }

  remove(dcname: string): void {
    rmSync(this.path(dcname), { force: true })
  }

  private path(dcname: string): string {
    // A dcname starts and ends with a letter or digit and has no "/": always one plain file name.
    return join(this.dir, `${dcname}.json`)
  }
}

function stateDir(env: NodeJS.ProcessEnv): string {
  if (env.CONFIGCTL_STATE_DIR) return env.CONFIGCTL_STATE_DIR
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'configctl')
}

/**
 * `http://localhost:4999/` -> `http_localhost_4999-1a2b3c4d`: readable, distinct per URL, and
 * without any user or password the URL may carry.
 */
function fileNameOf(serviceUrl: string): string {
  const parsed = new URL(serviceUrl)
  const url = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`
  const readable = url.replace('://', '_').replace(/[^A-Za-z0-9.-]+/g, '_')
  return `${readable}-${createHash('sha256').update(url).digest('hex').slice(0, 8)}`
}
