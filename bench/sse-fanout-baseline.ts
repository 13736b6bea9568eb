/**
 * The watch fan-out's baseline (bench/replica-fanout.ts): a bare Bun.serve that holds SSE streams
 * and writes every frame POSTed to `/publish` to each of them, with nothing else on the way (no
 * store, no routing, no budget, no metrics). What a replica could do at best with its sockets.
 * Usage: bun bench/sse-fanout-baseline.ts <port>
 */

interface DirectController {
  write(chunk: Uint8Array): number | Promise<number>
  flush?(): void
}

const port = Number(process.argv[2])
const streams = new Set<DirectController>()
const HELLO = new TextEncoder().encode(': hello\n\n')

Bun.serve({
  port,
  hostname: '127.0.0.1',
  idleTimeout: 0,
  async fetch(request, server) {
    const url = new URL(request.url)
    if (request.method === 'POST' && url.pathname === '/publish') {
      const frame = new Uint8Array(await request.arrayBuffer())
      for (const stream of streams) void stream.write(frame)
      return new Response(null, { status: 204 })
    }
    if (url.pathname === '/readyz') return new Response('ok')
    server.timeout(request, 0)
    let held: DirectController | undefined
    const body = new ReadableStream({
      type: 'direct',
      pull(controller: DirectController) {
        held = controller
        streams.add(controller)
        // The first bytes send the response headers, as the service's first heart-beat does.
        void controller.write(HELLO)
        controller.flush?.()
        return new Promise<void>(() => {})
      },
      cancel() {
        if (held) streams.delete(held)
      },
    } as unknown as UnderlyingDefaultSource<Uint8Array>)
    return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
  },
})
