// Whether a kubectl client is installed (tests that build kustomize entries need one).
import { execFileSync } from 'node:child_process'

export const hasKubectl: boolean = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
