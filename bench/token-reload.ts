/**
 * How long a change of API_TOKENS_FILE takes to be in force: a service with a tokens file; each
 * round renames a new file (a new token) over it, as an editor or a Secret's symlink swap does,
 * then asks every 5 ms with the new token until it is accepted. The rounds start at random
 * points of the service's one-second check, so their spread covers it.
 * `bun bench/token-reload.ts` (about 15 s; RELOAD_ROUNDS rounds, default 20). bench/README.md,
 * "Tokens file reload", has the result; the README states it.
 */
import { createHash, randomBytes } from 'node:crypto'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startServer, tempDir } from '../test/support/server.ts'
import { median } from './report.ts'

const rounds = Number(process.env.RELOAD_ROUNDS ?? 20)
const dir = tempDir('token-reload-')
const file = join(dir, 'tokens.yaml')

function writeTokens(token: string, round: number): void {
  const sha256 = createHash('sha256').update(token).digest('hex')
  const next = join(dir, `tokens-${round}.yaml`)
  writeFileSync(next, `tokens:\n  - name: bench-${round}\n    sha256: ${sha256}\n    role: reader\n`)
  renameSync(next, file)
}

const accepted = async (url: string, token: string) =>
  (await fetch(`${url}/configs?limit=1`, { headers: { authorization: `Bearer ${token}` } })).status === 200

writeTokens(randomBytes(16).toString('hex'), 0)
const server = await startServer({ env: { API_TOKENS_FILE: file } })
const waits: number[] = []
try {
  for (let round = 1; round <= rounds; round++) {
    await Bun.sleep(Math.random() * 1000)
    const token = randomBytes(16).toString('hex')
    writeTokens(token, round)
    const start = performance.now()
    while (!(await accepted(server.url, token))) await Bun.sleep(5)
    waits.push(performance.now() - start)
  }
} finally {
  await server.stop()
}
waits.sort((a, b) => a - b)
const ms = (value: number) => `${Math.round(value)} ms`
console.log(
  `${rounds} changes: in force after median ${ms(median(waits))}, min ${ms(waits[0] as number)}, max ${ms(waits.at(-1) as number)}`,
)
