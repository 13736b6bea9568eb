/**
 * The read ceiling: a bare Bun.serve that answers each URL with the bytes the service gave for
 * it, from memory, doing nothing else. What the service loses against it is its own cost.
 * Usage: bun bench/ceiling.ts <port> <captured.json>
 */
export interface Captured {
  status: number
  headers: Record<string, string>
  body: string
}

const [port, file] = process.argv.slice(2)
const captured = (await Bun.file(file ?? '').json()) as Record<string, Captured>
const answers = new Map(
  Object.entries(captured).map(([path, c]) => [path, { body: new TextEncoder().encode(c.body), init: c }]),
)

Bun.serve({
  port: Number(port),
  hostname: '127.0.0.1',
  fetch(request) {
    const url = request.url
    const answer = answers.get(url.slice(url.indexOf('/', 8)))
    if (!answer) return new Response('no such URL was captured', { status: 404 })
    return new Response(answer.body, { status: answer.init.status, headers: answer.init.headers })
  },
})
