/**
 * The tokens in force, as the authenticator looks them up: named tokens by the hash of their
 * secret, JWT subjects by name. Apart from the file's parser (token-file.ts), which loads YAML
 * and is loaded only when API_TOKENS_FILE is set.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Principal } from '../configs/access.ts'

/** One named token: the hash of its secret and what it may do. */
export interface TokenEntry {
  principal: Principal
  digest: Buffer
}

export interface TokenTable {
  tokens: TokenEntry[]
  /** JWT `sub` -> what it may do. A `sub` is an identity, not a secret: a Map is fine. */
  subjects: Map<string, Principal>
}

export const EMPTY_TABLE: TokenTable = { tokens: [], subjects: new Map() }

/** Why a tokens file cannot be used: `unreadable` (missing, no permission) or `invalid` (its content). */
export class TokenFileError extends Error {
  constructor(
    readonly reason: 'unreadable' | 'invalid',
    message: string,
  ) {
    super(message)
    this.name = 'TokenFileError'
  }
}

export function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

/**
 * The entry whose hash equals `digest`. Every entry is compared, each in constant time, and the
 * loop never stops early: the time taken tells only how many tokens there are, not how much of
 * a hash matched or which entry did.
 */
export function findToken(entries: readonly TokenEntry[], digest: Buffer): Principal | undefined {
  let found: Principal | undefined
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.principal
  }
  return found
}
