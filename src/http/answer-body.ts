/**
 * How a list's or search's JSON body is handed to the runtime's server. `bytes`, what every runtime
 * takes, frames it with Content-Length. `one-chunk` is for Bun (1.4.5): an answer completed
 * after a later turn of the event loop, as every consistent read on PostgreSQL is (it waits for
 * the revision query), leaves in one send per header line and one for the body once the body
 * reaches 15 KiB, where the same bytes given as a ReadableStream of one chunk leave in two
 * sends (bench/README.md, "Bun's late answers"). The price is the framing: Bun sends such a
 * body chunked, without Content-Length, to HTTP/1.1 clients, and to HTTP/1.0 clients delimited
 * by closing the connection. An answer completed in the turn its request came in leaves in one
 * send as bytes and costs more as a stream (measured on SQLite), a smaller body leaves in one
 * send either way, and the answer to HEAD carries no body: those keep their Content-Length.
 */

export type AnswerBodyKind = 'bytes' | 'one-chunk'

/** The body size from which Bun (1.4.5) splits a late answer: 15,359 bytes leave in one send, 15,360 in fifteen. */
export const ONE_CHUNK_FROM_BYTES = 15 * 1024

/**
 * Called when a read begins, before it waits for anything, with the request's method; gives
 * what turns the read's JSON into the answer's body once the read is done.
 */
export type AnswerBody = (method: string) => (json: string | Uint8Array<ArrayBuffer>) => BodyInit

const asIs = (json: string | Uint8Array<ArrayBuffer>) => json
const encoder = new TextEncoder()

export function answerBody(kind: AnswerBodyKind = 'bytes'): AnswerBody {
  if (kind === 'bytes') return () => asIs
  return (method) => {
    if (method === 'HEAD') return asIs
    const begun = turnNow()
    return (json) => {
      // A string's UTF-8 bytes are at least as many as its UTF-16 units: a shorter one stays as it is.
      if (turn === begun || json.length < ONE_CHUNK_FROM_BYTES) return json
      const bytes = typeof json === 'string' ? encoder.encode(json) : json
      return bytes.byteLength < ONE_CHUNK_FROM_BYTES ? bytes : oneChunk(bytes)
    }
  }
}

/**
 * Turns of the event loop, counted only while someone looks: the first look in a turn asks for
 * a callback after it (setImmediate runs once the loop has gone round), so a busy loop pays
 * one callback per turn, not one per request, and an idle one none.
 */
let turn = 0
let counting = false
function turnNow(): number {
  if (!counting) {
    counting = true
    setImmediate(() => {
      turn++
      counting = false
    })
  }
  return turn
}

/** The bytes as one chunk; the stream takes no copy, and the bytes (a cached page's) stay whole. */
function oneChunk(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })
}
