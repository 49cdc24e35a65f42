// Certificate hot reload. A Kubernetes Secret volume updates by swapping a `..data` symlink inside the
// directory, so the directory is watched, not the files. A new pair is validated (parses, key matches
// certificate) before the server's TLS context is swapped; a bad pair is logged and the old one kept.
// Open connections keep their session; new handshakes get the new certificate.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Server } from 'node:https'
import { createSecureContext } from 'node:tls'
import { TLS_SETTINGS } from './policy.ts'
import type { Logger } from '../log/log.ts'

export interface CertificateFiles {
  certPath: string
  keyPath: string
}

/** Validates a PEM pair; returns the certificate's expiry or throws with the reason. */
export function checkPair(cert: string, key: string): Date {
  const certificate = new X509Certificate(cert)
  if (!certificate.checkPrivateKey(createPrivateKey(key))) throw new Error('the private key does not match the certificate')
  createSecureContext({ cert, key })
  return new Date(certificate.validTo)
}

export interface CertificateWatcher {
  /** Reads the files now; resolves true when a new pair was installed. */
  reload(): Promise<boolean>
  close(): void
}

export function watchCertificates(
  files: CertificateFiles,
  server: Server,
  logger: Logger,
  onInstalled: (expiry: Date, cert: string) => void,
  debounceMs = 250,
): CertificateWatcher {
  let current = ''
  let timer: NodeJS.Timeout | undefined
  const reload = async (): Promise<boolean> => {
    let cert: string
    let key: string
    try {
      ;[cert, key] = await Promise.all([readFile(files.certPath, 'utf8'), readFile(files.keyPath, 'utf8')])
    } catch (error) {
      logger.error({ err: (error as Error).message, ...files }, 'cannot read the new certificate; keeping the current one')
      return false
    }
    if (cert + key === current) return false
    try {
      const expiry = checkPair(cert, key)
      server.setSecureContext({ cert, key, ...TLS_SETTINGS })
      current = cert + key
      onInstalled(expiry, cert)
      logger.info({ ...files, notAfter: expiry.toISOString() }, 'serving certificate reloaded')
      return true
    } catch (error) {
      logger.error({ err: (error as Error).message, ...files }, 'rejected the new certificate; keeping the current one')
      return false
    }
  }
  const watchers: FSWatcher[] = [...new Set([dirname(files.certPath), dirname(files.keyPath)])].map((dir) =>
    watch(dir, () => {
      clearTimeout(timer)
      timer = setTimeout(() => void reload(), debounceMs)
    }),
  )
  return {
    reload,
    close() {
      clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
    },
  }
}
