// SIGTERM and a connection opened during the drain (as the API server may open one until the endpoint
// is gone) whose request arrives only after the drain is over and the listener closed: it is answered,
// with Connection: close, never refused with a 503 (which the API server counts as a failed call).
import { connect as netConnect } from 'node:net'
import { connect, type TLSSocket } from 'node:tls'
import t from 'tap'
import { startServe } from '../helpers/cli.ts'
import { admissionReview, loadYaml } from '../helpers/objects.ts'

t.test('a request on a connection opened during the drain is answered after the listener closes, not refused with 503', async (t) => {
  const started = await startServe(t, 1)
  const { serve, certs } = started
  const url = new URL(started.url)
  serve.child.kill('SIGTERM')
  // Opened during the drain (as the API server may until the endpoint is gone), the request not yet sent.
  const socket = await new Promise<TLSSocket>((resolve) => {
    const s = connect({ host: url.hostname, port: Number(url.port), ca: certs.ca, servername: 'localhost' }, () => resolve(s))
  })
  // The drain is over once a new connection is refused (bounded wait).
  const refused = () => new Promise<boolean>((resolve) => {
    const probe = netConnect({ host: url.hostname, port: Number(url.port) })
    probe.once('connect', () => (probe.destroy(), resolve(false)))
    probe.once('error', () => resolve(true))
  })
  const deadline = Date.now() + 8_000
  while (!(await refused()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.ok(await refused(), 'the listener is closed: the drain is over')
  const body = JSON.stringify(admissionReview(loadYaml('readiness-probe/fires-deployment-no-probe.yaml')))
  const answer = await new Promise<string>((resolve) => {
    let text = ''
    socket.on('data', (d) => (text += d))
    socket.on('close', () => resolve(text))
    socket.on('error', () => resolve(text))
    socket.write(`POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  })
  t.match(answer, /^HTTP\/1\.1 200 /, 'answered 200')
  t.match(answer, /\r\nconnection: close\r\n/i, 'with Connection: close, and the connection closed after it')
  t.equal(await serve.exited, 0, 'then a clean exit')
})
