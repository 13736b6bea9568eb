/**
 * What Elysia's own mechanisms change in the CPU of a GET shaped like the service's GET one
 * (bench/README.md, "Elysia's own mechanisms"): `bun bench/elysia-mechanisms.ts`. A bare app with
 * the service's router options, 24 routes, a derive and a transform hook, the `:dcname` schema and
 * an async handler that answers a ready Response, against variants of it: Elysia's options
 * (`precompile`, `aot: false`), the route's own handler called as Bun's router would call it
 * (`systemRouter`), the `:dcname` check by hand, the context set by a transform hook instead of a
 * derive, a handler that hands its whole context on, and the same answer without Elysia. Batches
 * of MECH_REQUESTS (default 20,000), MECH_ROUNDS rounds (default 30), the variants' order rotated
 * each round; each line gives the median of the rounds and its difference to a second copy of
 * today's app, which is the noise floor. MECH_ONLY=name,name runs some of them.
 */
import { createBunRouteHandler } from 'elysia/adapter/bun/compose'
import { answer, bareApp, DCNAME, NAME, read, type Shape } from './bare-get-app.ts'
import { median } from './report.ts'

type Call = (request: Request) => Response | Promise<Response>

function viaFetch(shape: Shape): Call {
  const fetch = bareApp(shape).fetch
  return (request) => fetch(request)
}

/** What Bun's router (Elysia's systemRouter, when Elysia listens) calls: the route's own handler, params set. */
function viaRouteHandler(): Call {
  const app = bareApp({})
  const route = app.router.history.find(({ method, path }) => method === 'GET' && path === '/configs/:dcname')
  if (!route) throw new Error('no GET /configs/:dcname')
  const handle = createBunRouteHandler(app, route) as unknown as Call
  return (request) => {
    Object.defineProperty(request, 'params', { value: { dcname: NAME } })
    return handle(request)
  }
}

const withoutElysia: Call = async (request) => {
  const url = request.url
  const dcname = url.slice(url.lastIndexOf('/') + 1)
  if (!DCNAME.test(dcname)) throw new Error('bad name')
  return answer(await read(dcname))
}

const VARIANTS: Record<string, Call> = {
  today: viaFetch({}),
  'today, second copy': viaFetch({}),
  precompile: viaFetch({ options: { precompile: true } }),
  'aot off': viaFetch({ options: { aot: false } }),
  'route handler (systemRouter)': viaRouteHandler(),
  ':dcname by hand': viaFetch({ params: 'by hand' }),
  'context by transform': viaFetch({ context: 'transform' }),
  'whole context handed on': viaFetch({ wholeContext: true }),
  'without Elysia': withoutElysia,
}

const only = process.env.MECH_ONLY?.split(',')
const names = Object.keys(VARIANTS).filter((name) => !only || only.includes(name) || name.startsWith('today'))
const requests = Number(process.env.MECH_REQUESTS ?? 20_000)
const rounds = Number(process.env.MECH_ROUNDS ?? 30)

/** Microseconds of CPU per request, 100 requests in flight at a time. */
async function batch(call: Call): Promise<number> {
  const start = process.cpuUsage()
  for (let done = 0; done < requests; done += 100) {
    const answers: (Response | Promise<Response>)[] = []
    for (let i = 0; i < 100; i++) answers.push(call(new Request(`http://localhost/configs/${NAME}`)))
    const [first] = await Promise.all(answers)
    if (first?.status !== 200) throw new Error(`answered ${first?.status}`)
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / requests
}

const times = new Map<string, number[]>(names.map((name) => [name, []]))
for (const name of names) await batch(VARIANTS[name] as Call)
for (let round = 0; round < rounds; round++) {
  Bun.gc(true)
  const k = round % names.length
  for (const name of [...names.slice(k), ...names.slice(0, k)])
    times.get(name)?.push(await batch(VARIANTS[name] as Call))
}
const reference = median(times.get('today, second copy') ?? [])
console.log(
  `${rounds} rounds of ${requests} requests; us of CPU per request (median), difference to a second copy of today`,
)
for (const name of names) {
  const value = median(times.get(name) ?? [])
  console.log(
    `${name.padEnd(30)} ${value.toFixed(2)}  ${(value - reference >= 0 ? '+' : '') + (value - reference).toFixed(2)}`,
  )
}
