/**
 * A watch client that stops reading at the socket, as a stuck client does: it takes the answer's
 * head and first chunk, then nothing more from the kernel until `readToEnd`. fetch cannot play
 * this client: Bun's keeps reading the body into memory of its own while nobody reads it.
 * The stream is read as an EventSource reads it (eventsource-parser).
 */
import { connect, type Socket } from 'node:net'
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export class StalledWatch {
  private readonly received: Buffer[] = []
  private closed = false
  private readonly ended: Promise<void>

  private constructor(private readonly socket: Socket) {
    this.ended = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true
        resolve()
      })
      // The last chunk of a chunked body ends the stream, whether or not the server closes.
      socket.on('data', (chunk: Buffer) => {
        this.received.push(chunk)
        if (endsChunkedBody(this.received)) resolve()
      })
    })
  }

  /** Opens `GET /configs?watch=true&<query>` and stops reading once the first chunk is in. */
  static open(base: string, query: string, headers: Record<string, string> = {}): Promise<StalledWatch> {
    const { hostname, port } = new URL(base)
    const lines = [`GET /configs?watch=true&${query} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close']
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) })
      const watch = new StalledWatch(socket)
      socket.once('error', reject)
      const firstChunk = () => {
        const text = Buffer.concat(watch.received).toString('latin1')
        if (!text.includes('\r\n\r\n')) return
        if (!text.startsWith('HTTP/1.1 200')) {
          socket.destroy()
          reject(new Error(`expected a watch stream, got ${JSON.stringify(text.slice(0, 200))}`))
        } else if (text.includes(': heartbeat')) {
          socket.pause()
          socket.off('data', firstChunk)
          resolve(watch)
        }
      }
      socket.on('data', firstChunk)
      socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    })
  }

  /** Reads on until the server ends the stream; the events it sent, comments left out. */
  async readToEnd(): Promise<EventSourceMessage[]> {
    this.socket.resume()
    await this.ended
    const raw = Buffer.concat(this.received)
    const head = raw.indexOf('\r\n\r\n')
    const chunked = /\r\ntransfer-encoding: *chunked/i.test(raw.subarray(0, head).toString('latin1'))
    const body = chunked ? dechunk(raw.subarray(head + 4)) : raw.subarray(head + 4)
    const events: EventSourceMessage[] = []
    createParser({ onEvent: (event) => events.push(event) }).feed(body.toString('utf8'))
    return events
  }

  close(): void {
    if (!this.closed) this.socket.destroy()
  }
}

const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n')

function endsChunkedBody(received: readonly Buffer[]): boolean {
  const tail = Buffer.concat(received.slice(-2))
  return tail.length >= LAST_CHUNK.length && tail.subarray(-LAST_CHUNK.length).equals(LAST_CHUNK)
}

function dechunk(payload: Buffer): Buffer {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = payload.indexOf('\r\n', offset)
    if (lineEnd === -1) break
    const size = Number.parseInt(payload.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(payload.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
  return Buffer.concat(parts)
}
