/**
 * What a hostile body costs the service: the time to answer it, the longest `/healthz` took
 * meanwhile (polled back to back), and the service's peak RSS (VmHWM) before and after. One
 * fresh service per body, on Bun or Deno, with MAX_BODY_BYTES at its 64 MiB maximum so that the
 * flat body fits. `bun bench/hostile-bodies.ts [bun|deno]` (well under a minute on this tree).
 * bench/README.md, "Hostile bodies (issue 20)", has the numbers before and after.
 */
import { readFileSync } from 'node:fs'
import { startServer } from '../test/support/server.ts'

const runtime = (process.argv[2] ?? 'bun') as 'bun' | 'deno'
const TOKEN = 'bench-hostile-bodies'
const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`

const BODIES: [string, string][] = [
  ['32,000 levels outside metadata (64 kB)', `{"dcname":"x","metadata":{},"x":${deep(32_000)}}`],
  ['a dcname 32,000 levels deep (64 kB)', `{"dcname":${deep(32_000)},"metadata":{}}`],
  [
    'an unknown field of 15 M numbers (30 MB)',
    `{"dcname":"x","metadata":{},"x":[${new Array(15_000_000).fill('0').join(',')}]}`,
  ],
]

const peakRssMb = (pid: number) =>
  Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024)

console.log(
  `| body (${runtime}) | status | answered in, ms | longest /healthz meanwhile, ms | peak RSS before, after, MB |`,
)
console.log('| --- | --- | --- | --- | --- |')
for (const [name, body] of BODIES) {
  const server = await startServer({
    runtime,
    env: { API_TOKEN: TOKEN, MAX_BODY_BYTES: String(64 * 1024 * 1024), SEED: 'false' },
  })
  const post = (text: string) =>
    fetch(`${server.url}/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: text,
    })
  try {
    // One refused write and one probe first: first-request costs are not the body's.
    await (await post('{"dcname":1}')).text()
    await (await fetch(`${server.url}/healthz`)).text()
    const before = peakRssMb(server.process.pid)
    let answered = false
    let longestHealthz = 0
    const probe = (async () => {
      while (!answered) {
        const start = performance.now()
        await (await fetch(`${server.url}/healthz`)).text()
        longestHealthz = Math.max(longestHealthz, performance.now() - start)
      }
    })()
    const start = performance.now()
    const response = await post(body)
    await response.text()
    const elapsed = performance.now() - start
    answered = true
    await probe
    console.log(
      `| ${name} | ${response.status} | ${Math.round(elapsed)} | ${Math.round(longestHealthz)} | ` +
        `${before}, ${peakRssMb(server.process.pid)} |`,
    )
  } finally {
    await server.stop()
  }
}
