/** Random trace and span ids as propagation headers carry them (lowercase hex, never all zero). */
export function randomHex(bytes: number): string {
  const value = crypto.getRandomValues(new Uint8Array(bytes))
  value[0] = (value[0] ?? 0) | 1
  return [...value].map((b) => b.toString(16).padStart(2, '0')).join('')
}
