/**
 * HTTP/1.1 (or 1.0) over a bare TCP socket, for what fetch will not do: send any Host header or
 * none, any request target and method as written, and behave like the many clients (Python's
 * http.client, most SDKs) that write the whole request body before they read a byte of the
 * answer. A connection the server resets before the answer is read rejects, as it fails for
 * those clients.
 */
import { connect } from 'node:net'

export interface RawRequest {
  method: string
  /** The request target as sent: a path, or anything else a client could write there. */
  path: string
  /** The Host header as sent; left out when undefined. */
  host?: string
  /** `1.1` when left out. */
  version?: '1.0' | '1.1'
  headers?: Record<string, string>
  body?: Uint8Array | string
}

export interface RawReply {
  status: number
  headers: Record<string, string>
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: tests look into arbitrary JSON
  json: any
}

/** Sends one request on a new connection (`Connection: close`) and reads the answer to its end. */
export function rawRequest(base: string, request: RawRequest): Promise<RawReply> {
  const { hostname, port } = new URL(base)
  const body = typeof request.body === 'string' ? new TextEncoder().encode(request.body) : request.body
  const lines = [`${request.method} ${request.path} HTTP/${request.version ?? '1.1'}`]
  if (request.host !== undefined) lines.push(`Host: ${request.host}`)
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`)
  if (body) lines.push(`Content-Length: ${body.byteLength}`)
  lines.push('Connection: close', '', '')
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) })
    const received: Buffer[] = []
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')))
    socket.on('error', reject)
    // Nothing is read until the whole request has been handed to the kernel.
    socket.pause()
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('end', () => {
      try {
        resolve(parseReply(Buffer.concat(received)))
      } catch (error) {
        reject(error)
      }
    })
    socket.write(lines.join('\r\n'))
    socket.write(body ?? new Uint8Array(), (error) => {
      if (error) reject(error)
      else socket.resume()
    })
  })
}

function parseReply(raw: Buffer): RawReply {
  const headEnd = raw.indexOf('\r\n\r\n')
  if (headEnd === -1) throw new Error(`no complete answer: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`)
  const [statusLine = '', ...headerLines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1])
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let payload = raw.subarray(headEnd + 4)
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') payload = dechunk(payload)
  const text = payload.toString('utf8')
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status, headers, text, json }
}

function dechunk(payload: Buffer): Buffer {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = payload.indexOf('\r\n', offset)
    const size = Number.parseInt(payload.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!(size > 0)) return Buffer.concat(parts)
    parts.push(payload.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
}
