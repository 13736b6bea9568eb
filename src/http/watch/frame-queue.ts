/** Frames waiting for a watch stream, with the revision of each (for `sent`) and their bytes. */
export class FrameQueue {
  private frames: Uint8Array[] = []
  private revisions: number[] = []
  /** Bytes of the frames held. */
  bytes = 0

  get length(): number {
    return this.frames.length
  }

  /** Bytes of the frame at the front; 0 when empty. */
  get firstBytes(): number {
    return this.frames[0]?.length ?? 0
  }

  push(frame: Uint8Array, revision: number): void {
    this.frames.push(frame)
    this.revisions.push(revision)
    this.bytes += frame.length
  }

  /** Moves the frame at the front to the end of `other`. */
  moveFirstTo(other: FrameQueue): void {
    const frame = this.frames.shift()
    const revision = this.revisions.shift()
    if (frame === undefined || revision === undefined) return
    this.bytes -= frame.length
    other.push(frame, revision)
  }

  /** Up to `max` frames from the front as one chunk (after `first`), with the revision of the last. */
  take(max: number, first?: Uint8Array): { chunk: Uint8Array; last: number | undefined } {
    const n = Math.min(max, this.frames.length)
    const parts = this.frames.splice(0, n)
    const last = this.revisions.splice(0, n).at(-1)
    for (const frame of parts) this.bytes -= frame.length
    if (first !== undefined) parts.unshift(first)
    return { chunk: parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts), last }
  }

  clear(): void {
    this.frames = []
    this.revisions = []
    this.bytes = 0
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
