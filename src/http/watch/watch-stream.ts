/**
 * The body of one watch response, as a watcher writes to it: `room()` says whether a chunk can
 * go now, `send` hands one over, and `onRoom` is called when room comes back after the client
 * fell behind (a client that stops reading stops taking chunks).
 *
 * Two kinds: a standard ReadableStream (what every runtime has), which the server reads chunk
 * by chunk through its reader; and, where the runtime offers it, Bun's direct stream, whose
 * writes go to the socket without that reader's queue and promises in between: the fan-out
 * of one event to thousands of watchers is mostly this per-chunk cost (bench/README.md).
 */

export interface WatchStream {
  readonly body: ReadableStream<Uint8Array>
  room(): boolean
  send(chunk: Uint8Array): void
  /** Bytes handed over by `send` that the server has not taken yet (they count in a watcher's budget). */
  unread(): number
  /** Bytes the server has taken so far: it stands still while the client reads nothing. */
  taken(): number
  /** Sends `final` (unless the client is gone) and ends the body. */
  finish(final?: Uint8Array): void
}

export interface WatchStreamHooks {
  /** There is room again (the server pulled, or a backed-up write drained). */
  onRoom(): void
  /** The client went away. */
  onCancel(): void
}

export type WatchStreamKind = 'standard' | 'direct'

export function watchStream(kind: WatchStreamKind, hooks: WatchStreamHooks): WatchStream {
  return kind === 'direct' ? directStream(hooks) : standardStream(hooks)
}

function standardStream(hooks: WatchStreamHooks): WatchStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let sent = 0
  let last = 0
  // A chunk is only sent while the stream's queue is empty (room), so the queue holds at most
  // the last one, and holds it exactly while there is no room.
  const unread = () => ((controller.desiredSize ?? 1) > 0 ? 0 : last)
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c
      },
      pull: () => hooks.onRoom(),
      cancel: () => hooks.onCancel(),
    },
    { highWaterMark: 1 },
  )
  return {
    body,
    room: () => (controller.desiredSize ?? 0) > 0,
    send(chunk) {
      sent += chunk.length
      last = chunk.length
      controller.enqueue(chunk)
    },
    unread,
    taken: () => sent - unread(),
    finish(final) {
      try {
        if (final !== undefined && final.length > 0) controller.enqueue(final)
        controller.close()
      } catch {
        // Already cancelled by the client: nothing left to write to.
      }
    },
  }
}

/** What Bun's direct stream controller offers (not in the standard stream types). */
interface DirectController {
  write(chunk: Uint8Array): number | Promise<number>
  close(): void
}

function directStream(hooks: WatchStreamHooks): WatchStream {
  let controller: DirectController | undefined
  let backedUp = false
  let sent = 0
  /** What the runtime holds of a write the socket did not take whole, until it drained. */
  let unread = 0
  let finished = false
  let ended!: () => void
  // The server calls pull once; the body stays open until the promise it returns settles.
  const open = new Promise<void>((resolve) => {
    ended = resolve
  })
  const source = {
    type: 'direct',
    pull: (c: DirectController) => {
      controller = c
      hooks.onRoom()
      return open
    },
    cancel: () => hooks.onCancel(),
  }
  const body = new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>)
  return {
    body,
    room: () => controller !== undefined && !backedUp && !finished,
    unread: () => unread,
    taken: () => sent - unread,
    send(chunk) {
      sent += chunk.length
      const written = (controller as DirectController).write(chunk)
      if (written instanceof Promise) {
        // The socket took less than all of it: hold further chunks until it drained.
        backedUp = true
        unread = chunk.length
        written.then(
          () => {
            backedUp = false
            unread = 0
            if (!finished) hooks.onRoom()
          },
          () => hooks.onCancel(),
        )
      }
    },
    finish(final) {
      if (finished) return
      finished = true
      try {
        if (controller && final !== undefined && final.length > 0) void controller.write(final)
        controller?.close()
      } catch {
        // Already cancelled by the client.
      }
      ended()
    },
  }
}
