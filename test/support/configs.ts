import type { Config } from '../../src/configs/model.ts'

/** A config to write in a test: a name and its metadata (none unless given). */
export const config = (dcname: string, metadata: Record<string, unknown> = {}): Config => ({ dcname, metadata })
