// The API group of an object from its apiVersion: 'apps/v1' → 'apps', 'v1' → '' (core).
import type { KubeObject } from './types.ts'

export function apiGroupOf(object: KubeObject): string {
  const apiVersion = object.apiVersion ?? 'v1'
  const slash = apiVersion.indexOf('/')
  return slash < 0 ? '' : apiVersion.slice(0, slash)
}
