/** The size of one page of List and Search: what a page holds by default, and at most. */
export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 10_000
