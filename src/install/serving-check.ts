// Would the API server accept hitless's serving certificate? It dials each webhook at a name (the
// Service's `<name>.<namespace>.svc`, or the host of a URL), reads only the certificate's
// subjectAltName (Go since 1.15 ignores the CN), and verifies the chain the server sends against the
// webhook's caBundle (its own trust store when that is empty). These functions answer the same
// questions from the PEM alone, never on the request path. Where unsure they say "fine": a false alarm
// here would take a working replica out of its Service (docs/decisions/0033).
import { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { rootCertificates } from 'node:tls'

/** Where the API server calls hitless: what it dials and what it trusts. */
export interface ServingTarget {
  /** Who calls there, for messages: `ValidatingWebhookConfiguration hitless, webhook validate.hitless.dev`. */
  who: string
  /** The name or IP address the API server verifies. */
  host: string
  /** The caBundle as PEM; '' when the webhook has none; undefined when it is not known. */
  caBundle?: string
  /** How the target reaches hitless: through a Service (namespace/name) or at a URL. */
  via: { service: { namespace: string; name: string } } | { url: string }
}

export interface ServingProblem {
  check: 'certificate-name' | 'ca-bundle' | 'certificate-usage'
  who: string
  message: string
  fix: string
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const ANY_USAGE = '2.5.29.37.0'

/** Every certificate in a PEM text, in order (a chain, or a bundle of CAs); unparsable blocks are skipped. */
export function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  return blocks.flatMap((block) => {
    try {
      return [new X509Certificate(block)]
    } catch {
      return []
    }
  })
}

let systemRoots: X509Certificate[] | undefined
const trustStore = () => (systemRoots ??= rootCertificates.flatMap((pem) => certificatesIn(pem)))

/** The names a certificate is valid for, as subjectAltName lists them (DNS:a, IP Address:b). */
export function namesOf(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '').split(', ').filter(Boolean)
}

/** Whether the API server would accept `certificate` for `host` (SANs only, no partial wildcards). */
export function validFor(certificate: X509Certificate, host: string): boolean {
  if (isIP(host)) return certificate.checkIP(host) !== undefined
  return certificate.checkHost(host, { subject: 'never', partialWildcards: false }) !== undefined
}

const issued = (parent: X509Certificate, child: X509Certificate) => child.checkIssued(parent) && child.verify(parent.publicKey)

/**
 * Whether the chain hitless sends (leaf first, then intermediates) leads to one of `anchors`: the leaf
 * itself is an anchor, or each step is issued (and signed) by the next, up to one an anchor issued.
 */
export function chainsTo(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): boolean {
  const isAnchor = (certificate: X509Certificate) => anchors.some((anchor) => anchor.fingerprint256 === certificate.fingerprint256)
  const unused = new Set(chain.slice(1))
  let current = chain[0]
  while (current) {
    const step = current
    if (isAnchor(step) || anchors.some((anchor) => issued(anchor, step))) return true
    current = [...unused].find((candidate) => candidate.ca && issued(candidate, step))
    if (current) unused.delete(current)
  }
  return false
}

/** The certs-script command that issues a certificate the API server accepts for `target`. */
function reissue(target: ServingTarget): string {
  if ('service' in target.via) return `certs-script/generate.sh --apply --namespace ${target.via.service.namespace} --service ${target.via.service.name}`
  return `certs-script/generate.sh ${isIP(target.host) ? '--ip' : '--dns'} ${target.host} (and the new ca.crt as caBundle)`
}

/** A distinguished name on one line. */
const dn = (name: string) => name.replace(/\n/g, ', ')

/** What the API server would refuse about the serving chain at `target`; [] when it would accept it. */
export function servingProblems(chainPem: string, target: ServingTarget): ServingProblem[] {
  const chain = certificatesIn(chainPem)
  const leaf = chain[0]
  if (!leaf) return []
  const problems: ServingProblem[] = []
  if (!validFor(leaf, target.host)) {
    const cnOnly = !isIP(target.host) && leaf.checkHost(target.host, { subject: 'always', partialWildcards: false }) !== undefined
    problems.push({
      check: 'certificate-name',
      who: target.who,
      message: cnOnly
        ? `${target.who} calls ${target.host}, which the serving certificate has only as its CN; the API server reads only subjectAltName (names: ${namesOf(leaf).join(', ') || 'none'})`
        : `${target.who} calls ${target.host}, but the serving certificate is valid only for ${namesOf(leaf).join(', ') || 'no subjectAltName at all'}`,
      fix: `issue the certificate for ${target.host}: ${reissue(target)}`,
    })
  }
  const usages = leaf.keyUsage
  if (usages && usages.length > 0 && !usages.includes(SERVER_AUTH) && !usages.includes(ANY_USAGE)) {
    problems.push({
      check: 'certificate-usage',
      who: target.who,
      message: `the serving certificate's extendedKeyUsage lacks serverAuth (${usages.join(', ')}); the API server refuses it`,
      fix: `issue a server certificate: ${reissue(target)}`,
    })
  }
  if (target.caBundle !== undefined) {
    const bundle = certificatesIn(target.caBundle)
    const anchors = bundle.length > 0 ? bundle : trustStore()
    if (!chainsTo(chain, anchors)) {
      problems.push({
        check: 'ca-bundle',
        who: target.who,
        message:
          bundle.length > 0
            ? `${target.who}: its caBundle (${bundle.map((ca) => dn(ca.subject)).join('; ')}) does not verify the serving certificate (issued by ${dn(leaf.issuer)})`
            : `${target.who} has no caBundle, and the serving certificate (issued by ${dn(leaf.issuer)}) is not from a public CA`,
        fix:
          'put the CA that issued the serving certificate into caBundle: certs-script/generate.sh --apply patches both webhook configurations; ' +
          'with cert-manager, annotate them cert-manager.io/inject-ca-from: <namespace>/<certificate> (manifests/overlays/cert-manager does)',
      })
    }
  }
  return problems
}

/** Whether the certificate is outside its validity period at `now` (the API server refuses it then). */
export function validityProblem(chainPem: string, now: Date): string | undefined {
  const leaf = certificatesIn(chainPem)[0]
  if (!leaf) return undefined
  if (now < leaf.validFromDate) return `the serving certificate is not valid before ${leaf.validFromDate.toISOString()}`
  if (now > leaf.validToDate) return `the serving certificate expired at ${leaf.validToDate.toISOString()}`
  return undefined
}
