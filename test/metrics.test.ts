import t from 'tap'
import { testApp } from './helpers/app.ts'
import { admissionReview, loadYaml } from './helpers/objects.ts'

const json = { 'content-type': 'application/json' }

/** Prometheus text → { 'name{labels}': value } for the hitless_ series. */
function scrape(text: string): Map<string, number> {
  const series = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^(hitless_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line)
    if (match) series.set(match[1]!, Number(match[2]))
  }
  return series
}

t.test('reviews, durations, rule results and exemptions are counted', async (t) => {
  const { app } = testApp()
  const pod = loadYaml('readiness-probe/fires-bare-pod.yaml')
  const exempted = structuredClone(pod)
  exempted.metadata = { ...exempted.metadata, annotations: { 'hitless.dev/exempt': 'readiness-probe', 'hitless.dev/exempt-reason': 'x', 'hitless.dev/exempt-until': new Date(Date.now() + 86400000).toISOString() } }
  const send = (url: string, body: object) => app.inject({ method: 'POST', url, headers: json, payload: body })
  await send('/validate', admissionReview(pod))
  await send('/mutate', admissionReview(pod))
  await send('/validate', admissionReview(pod, { dryRun: true }))
  await send('/validate', admissionReview(exempted))

  const response = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const series = scrape(response.body)
  t.equal(series.get('hitless_reviews_total{endpoint="validate",operation="CREATE",kind="Pod",decision="deny",dry_run="false"}'), 2)
  t.equal(series.get('hitless_reviews_total{endpoint="validate",operation="CREATE",kind="Pod",decision="deny",dry_run="true"}'), 1)
  t.equal(series.get('hitless_reviews_total{endpoint="mutate",operation="CREATE",kind="Pod",decision="patch",dry_run="false"}'), 1)
  t.equal(series.get('hitless_rule_results_total{rule="readiness-probe",action="deny",outcome="deny"}'), 1, 'the dry run is not counted')
  t.equal(series.get('hitless_rule_results_total{rule="readiness-probe",action="deny",outcome="exempt"}'), 1)
  t.equal(series.get('hitless_rule_results_total{rule="pre-stop",action="mutate",outcome="patch"}'), 1)
  t.equal(series.get('hitless_exemptions_total{rule="readiness-probe",source="object"}'), 1)
  t.equal(series.get('hitless_review_duration_seconds_count{endpoint="validate"}'), 3)
})
