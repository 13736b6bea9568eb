/**
 * The commands `configctl agent` runs around a change: `--check` on the staged files before
 * they replace the old ones (a non-zero exit rejects the change, its output the reason), and
 * `--reload` or `--signal` once they did. Commands run with `sh -c`, with CONFIG_FILE and/or
 * CONFIG_DIR, CONFIG_DCNAME and CONFIG_REVISION in their environment.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { MAX_CONSUMER_MESSAGE } from '../configs/consumers.ts'

export interface CommandResult {
  ok: boolean
  /** What the command said (stderr, else stdout), bounded to what a report may carry. */
  message: string
}

export function runCommand(command: string, env: Record<string, string>): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const errors: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => errors.push(chunk))
    child.on('error', (error) => resolve({ ok: false, message: bounded(error.message) }))
    child.on('close', (code, signal) => {
      const said = Buffer.concat(errors).toString().trim() || Buffer.concat(out).toString().trim()
      const status = signal === null ? `exit code ${code}` : `signal ${signal}`
      resolve({ ok: code === 0, message: bounded(said === '' ? `${command}: ${status}` : said) })
    })
  })
}

/** Sends `signal` to the process whose id `pidFile` holds. */
export function signalProcess(signal: string, pidFile: string): CommandResult {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    if (!Number.isInteger(pid) || pid <= 0) return { ok: false, message: `${pidFile} holds no process id` }
    process.kill(pid, signal as NodeJS.Signals)
    return { ok: true, message: '' }
  } catch (error) {
    return { ok: false, message: bounded((error as Error).message) }
  }
}

/** The end of a long output: the last lines say why a check failed. */
function bounded(text: string): string {
  return text.length <= MAX_CONSUMER_MESSAGE ? text : `…${text.slice(text.length - MAX_CONSUMER_MESSAGE + 1)}`
}
