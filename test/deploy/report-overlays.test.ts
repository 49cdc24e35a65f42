// manifests/overlays/reports and policyreports: they build, install the CRDs exactly as upstream ships
// them (byte for byte the copies in ../shared/crds), set reports.format, and grant the writer what it
// uses: the report kinds of the format (no more verbs than it calls) and its one Lease.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { hasKubectl } from '../helpers/kubectl.ts'
import { loadAll } from 'js-yaml'
import { parseConfig } from '../../src/config/load.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { REPORT_KINDS } from '../../src/report/policy-report.ts'
import { LEASE_NAME } from '../../src/reporting/start.ts'

const root = fileURLToPath(new URL('../../manifests/', import.meta.url))
const shared = fileURLToPath(new URL('../../../shared/crds/', import.meta.url))

const overlays = { reports: 'openreports', policyreports: 'policyreport' } as const

for (const [overlay, format] of Object.entries(overlays)) {
  t.test(`overlays/${overlay}: CRDs copied from upstream byte for byte`, async (t) => {
    for (const kind of REPORT_KINDS[format]) {
      const file = `${kind.group}_${kind.plural}.yaml`
      t.equal(readFileSync(`${root}overlays/${overlay}/crds/${file}`, 'utf8'), readFileSync(`${shared}${file}`, 'utf8'), file)
    }
  })

  t.test(`overlays/${overlay}: builds, with the format, the CRDs and the writer's grants`, { skip: hasKubectl ? false : 'kubectl not installed' }, async (t) => {
    const objects = loadAll(execFileSync('kubectl', ['kustomize', `${root}overlays/${overlay}`], { encoding: 'utf8' })) as any[]
    const config = objects.find((o) => o.kind === 'ConfigMap')
    t.equal(parseConfig(config.data['config.yaml'], overlay).reports.format, format)
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name).sort()
    t.same(crds, REPORT_KINDS[format].map((k) => `${k.plural}.${k.group}`).sort())
    const writer = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'hitless-report-writer')
    for (const kind of REPORT_KINDS[format]) {
      const rule = writer.rules.find((r: any) => r.apiGroups.includes(kind.group) && r.resources.includes(kind.plural))
      t.same(rule?.verbs, ['get', 'list', 'create', 'update', 'delete'], `${kind.plural}: what the writer calls, no watch, no patch`)
    }
    const lease = objects.find((o) => o.kind === 'Role' && o.metadata.name === 'hitless-report-lease')
    t.equal(lease.metadata.namespace, 'hitless-system')
    t.same(lease.rules.find((r: any) => r.resourceNames)?.resourceNames, [LEASE_NAME])
    const bound = objects.filter((o: KubeObject) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding').map((o) => o.roleRef.name)
    t.ok(bound.includes('hitless-report-writer') && bound.includes('hitless-report-lease'), 'both bound to the service account')
  })
}
