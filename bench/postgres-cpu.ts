/** The CPU time of a PostgreSQL server's processes, from /proc (Linux), for in-process benches. */
import { readdirSync, readFileSync } from 'node:fs'

/** User + system clock ticks of a process so far. */
function ticks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}

/** CPU time of the postmaster and its children so far, in microseconds. */
export function serverMicros(postmaster: number): number {
  let total = ticks(postmaster)
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (parentOf(Number(name)) === postmaster) total += ticks(Number(name))
    } catch {
      // The process ended meanwhile.
    }
  }
  return (total * 1e6) / 100
}
