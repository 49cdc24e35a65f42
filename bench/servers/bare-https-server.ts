// The baseline: node:https, the same TLS material, reads and JSON-parses the same body, answers a
// fixed allow. Everything hitless does beyond this is what the ratio measures.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { reportCpuOnSignal } from '../lib/cpu-report.ts'

reportCpuOnSignal()
const [certPath, keyPath, port = '0'] = process.argv.slice(2) as [string, string, string?]
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath), minVersion: 'TLSv1.2' }, (req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})
server.listen(Number(port), '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
