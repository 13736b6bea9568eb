/**
 * Bun's own router through Elysia (`systemRouter`) against Elysia's, with wrk: `bun
 * bench/system-router-ab.ts`. Two bare apps shaped like the service's GET one (bare-get-app.ts)
 * listen themselves, one with `systemRouter: false` (A) and one with it on (B, Elysia's default
 * when it listens); rounds alternate A and B at 32 connections. Per round: req/s and each
 * server's CPU per request from /proc. READS_REQUEST=true makes the handler read the URL and one
 * header first, as the service's front door does for every request. SR_ROUNDS (default 10),
 * SR_SECONDS (default 3).
 */
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { bareApp, NAME } from './bare-get-app.ts'
import { freePort } from './processes.ts'
import { median } from './report.ts'

const served = process.env.SYSTEM_ROUTER_SERVE
if (served !== undefined) {
  const app = bareApp({
    options: { systemRouter: served === 'true' },
    readsRequest: process.env.READS_REQUEST === 'true',
  })
  app.listen({ port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => console.log('ready'))
} else {
  await compare()
}

/** CPU time (user + system) of a process so far, in microseconds. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
}

async function start(systemRouter: boolean) {
  const port = freePort()
  const server = Bun.spawn([process.execPath, import.meta.path], {
    env: { ...process.env, SYSTEM_ROUTER_SERVE: String(systemRouter), PORT: String(port) },
    stdout: 'pipe',
  })
  const reader = server.stdout.getReader()
  let said = ''
  while (!said.includes('ready')) {
    const { value, done } = await reader.read()
    if (done) throw new Error('the server ended before it was ready')
    said += new TextDecoder().decode(value)
  }
  return { server, url: `http://127.0.0.1:${port}/configs/${NAME}` }
}

async function round(target: { server: Bun.Subprocess; url: string }, seconds: number) {
  const before = cpuMicros(target.server.pid)
  const run = Bun.spawn(['wrk', '-t1', '-c32', `-d${seconds}s`, target.url], { stdout: 'pipe' })
  const out = await new Response(run.stdout).text()
  const used = cpuMicros(target.server.pid) - before
  const perSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const total = Number(/(\d+) requests in/.exec(out)?.[1])
  if (!(total > 0)) throw new Error(`wrk: ${out}`)
  return { perSecond, cpu: used / total }
}

async function compare() {
  const rounds = Number(process.env.SR_ROUNDS ?? 10)
  const seconds = Number(process.env.SR_SECONDS ?? 3)
  const a = await start(false)
  const b = await start(true)
  const results = { a: [] as { perSecond: number; cpu: number }[], b: [] as { perSecond: number; cpu: number }[] }
  try {
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)
      for (const name of order) results[name].push(await round(name === 'a' ? a : b, seconds))
      const [ra, rb] = [results.a[i], results.b[i]]
      if (ra && rb) {
        console.log(
          `round ${i + 1}: A ${ra.perSecond.toFixed(0)} req/s ${ra.cpu.toFixed(1)} us, B ${rb.perSecond.toFixed(0)} req/s ${rb.cpu.toFixed(1)} us, load ${loadavg()[0]?.toFixed(1)}`,
        )
      }
    }
  } finally {
    a.server.kill()
    b.server.kill()
  }
  const ratios = results.b.map((b, i) => b.cpu / (results.a[i]?.cpu ?? Number.NaN))
  console.log(
    `A (systemRouter off): ${median(results.a.map((r) => r.perSecond)).toFixed(0)} req/s, ${median(results.a.map((r) => r.cpu)).toFixed(1)} us of CPU per request`,
  )
  console.log(
    `B (systemRouter on): ${median(results.b.map((r) => r.perSecond)).toFixed(0)} req/s, ${median(results.b.map((r) => r.cpu)).toFixed(1)} us of CPU per request`,
  )
  console.log(
    `B/A CPU per request: median ${median(ratios).toFixed(2)}, per round ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
  )
}
