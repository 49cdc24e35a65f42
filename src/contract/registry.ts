// The composition root's view of the rules: the registry and what it implies for the cluster cache.
// Lower layers (cluster/, engine/) are handed these values; they never import the rules themselves.
import { RULES } from '../rules/index.ts'
import { cachedResources } from './derive.ts'

export { RULES }

/** The kinds the cache lists and watches (and `audit --cluster` reads), derived from what rules read. */
export const CACHED_RESOURCES = cachedResources(RULES)
