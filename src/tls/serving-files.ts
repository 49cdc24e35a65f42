// The serving certificate and key as `serve` first reads them. Without a usable pair hitless cannot
// listen at all, so anything wrong here (a Secret without tls.crt, an empty file, a key of another
// certificate) stops it with one line naming the file, the Secret it comes from and the command that
// makes it: in a pod that line is the container's last log line and its termination message.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { checkPair } from './reload.ts'

export class ServingFilesError extends Error {
  override name = 'ServingFilesError'
}

export interface ServingFiles {
  certPath: string
  keyPath: string
  /** The TLS Secret the files are mounted from, `namespace/name`, when hitless runs in a pod. */
  secret?: string
}

/** The command that makes the pair, for the place it is read from. */
export function makeCommand(files: ServingFiles): string {
  if (!files.secret) return 'certs-script/generate.sh --out DIR (then --tls-cert DIR/tls.crt --tls-key DIR/tls.key)'
  const [namespace, name] = files.secret.split('/')
  return `certs-script/generate.sh --apply --namespace ${namespace} --secret ${name} (or the cert-manager overlay, manifests/overlays/cert-manager)`
}

function problem(files: ServingFiles, what: string, namesSecret = false): ServingFilesError {
  const source = files.secret && !namesSecret ? ` (TLS Secret ${files.secret})` : ''
  return new ServingFilesError(`cannot serve: ${what}${source}; make the certificate and key with: ${makeCommand(files)}`)
}

async function readOne(files: ServingFiles, path: string): Promise<string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw problem(files, files.secret ? `${path} does not exist: TLS Secret ${files.secret} has no key "${basename(path)}"` : `${path} does not exist`, true)
    throw problem(files, `cannot read ${path} (${code ?? (error as Error).message})`)
  }
  if (text.trim() === '') throw problem(files, `${path} is empty`)
  return text
}

/** Reads and checks the pair; throws ServingFilesError with the one line to show. */
export async function readServingFiles(files: ServingFiles): Promise<{ cert: string; key: string }> {
  const [cert, key] = [await readOne(files, files.certPath), await readOne(files, files.keyPath)]
  try {
    new X509Certificate(cert)
  } catch {
    throw problem(files, `${files.certPath} holds no PEM certificate`)
  }
  try {
    createPrivateKey(key)
  } catch {
    throw problem(files, `${files.keyPath} holds no PEM private key`)
  }
  try {
    checkPair(cert, key)
  } catch (error) {
    throw problem(files, `${files.keyPath} does not go with ${files.certPath}: ${(error as Error).message}`)
  }
  return { cert, key }
}
