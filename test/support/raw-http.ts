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
  /** Sends the body chunked (in 64 KiB chunks) instead of with a Content-Length. */
  chunked?: boolean
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
  if (body) lines.push(request.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.byteLength}`)
  lines.push('Connection: close', '', '')
  const payload = body && request.chunked ? chunkedFraming(body) : body
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
    socket.write(payload ?? new Uint8Array(), (error) => {
      if (error) reject(error)
      else socket.resume()
    })
  })
}

function chunkedFraming(body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = []
  for (let offset = 0; offset < body.byteLength; offset += 64 * 1024) {
    const chunk = body.subarray(offset, offset + 64 * 1024)
    parts.push(Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
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

export interface StreamedRequest extends Omit<RawRequest, 'body'> {
  /** The Content-Length announced; the body is sent chunked when left out. */
  contentLength?: number
  /** How many bytes of body to send, if the server lets it get that far. */
  bodyBytes: number
  /** Goes on sending after the final answer, as a client that does not listen for one does. */
  ignoreAnswer?: boolean
}

export interface StreamedExchange {
  /** The status of each interim (1xx) answer, in the order received. */
  interim: number[]
  /** The final answer; undefined when the connection closed before a whole one arrived. */
  reply?: RawReply
  /** How many bytes of body had been handed to the socket when the answer came or the connection closed. */
  bodyBytesWritten: number
  /** Whether the server closed or reset the connection before the exchange ended. */
  closed: boolean
}

/**
 * Sends a request's head, then its body while reading, as a client that listens for an early
 * answer does (curl with `Expect: 100-continue`): it stops sending at the first final answer
 * (unless `ignoreAnswer`), or when the connection is closed or reset. Interim answers (100
 * Continue) are recorded, not waited for.
 */
export function streamedRequest(base: string, request: StreamedRequest): Promise<StreamedExchange> {
  const { hostname, port } = new URL(base)
  const chunked = request.contentLength === undefined
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${request.host ?? 'localhost'}`]
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`)
  lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${request.contentLength}`, '', '')
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) })
    const interim: number[] = []
    let received = Buffer.alloc(0)
    let written = 0
    let settled = false
    let reply: RawReply | undefined
    const settle = (closed: boolean) => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve({ interim, reply, bodyBytesWritten: written, closed })
    }
    const sentAll = () => written >= request.bodyBytes
    socket.setTimeout(60_000, () => settle(false))
    socket.on('error', () => settle(true))
    socket.on('close', () => settle(true))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      for (;;) {
        const answer = completeAnswer(received)
        if (!answer) return
        received = received.subarray(answer.length)
        if (answer.reply.status < 200) {
          interim.push(answer.reply.status)
          continue
        }
        reply = answer.reply
        if (!request.ignoreAnswer || sentAll()) settle(false)
        return
      }
    })
    const piece = new Uint8Array(64 * 1024).fill(0x20)
    const pump = () => {
      while (!settled && !(reply && !request.ignoreAnswer) && !sentAll()) {
        const size = Math.min(piece.byteLength, request.bodyBytes - written)
        const data = chunked
          ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), piece.subarray(0, size), Buffer.from('\r\n')])
          : piece.subarray(0, size)
        written += size
        if (!socket.write(data)) return void socket.once('drain', pump)
      }
      if (settled || !sentAll()) return
      if (chunked) socket.write('0\r\n\r\n')
      if (reply) settle(false)
    }
    socket.write(lines.join('\r\n'), () => pump())
  })
}

/** The first whole answer at the start of `raw` and its length in bytes, or undefined while it is incomplete. */
function completeAnswer(raw: Buffer): { reply: RawReply; length: number } | undefined {
  const headEnd = raw.indexOf('\r\n\r\n')
  if (headEnd === -1) return undefined
  const head = raw.subarray(0, headEnd).toString('latin1')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1])
  if (status < 200) return { reply: parseReply(raw.subarray(0, headEnd + 4)), length: headEnd + 4 }
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]
  if (length !== undefined) {
    const end = headEnd + 4 + Number(length)
    return raw.length < end ? undefined : { reply: parseReply(raw.subarray(0, end)), length: end }
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = raw.indexOf('\r\n0\r\n\r\n', headEnd)
    return last === -1 ? undefined : { reply: parseReply(raw.subarray(0, last + 7)), length: last + 7 }
  }
  return undefined
}
