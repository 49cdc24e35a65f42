// The exported YAML against the structure of the kinds it holds. No API server here serves them (the
// e2e one is v1.20; ValidatingAdmissionPolicy is v1 from 1.30, MutatingAdmissionPolicy v1beta1 from 1.34,
// v1 from 1.36), so the check is a JSON Schema written by hand from the Kubernetes API reference of
// admissionregistration.k8s.io (ValidatingAdmissionPolicy/Binding v1, MutatingAdmissionPolicy/Binding
// v1beta1 and v1): every field hitless writes, with its type, enum and required-ness, and no other field
// (additionalProperties: false), plus the API server's own validation rules that a schema cannot say
// (unique names, Deny with Warn, CEL identifiers) and a check that every CEL function used is one
// Kubernetes' CEL has.
import { Ajv } from 'ajv'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { parseConfig } from '../../src/config/load.ts'
import { exportPolicies } from '../../src/export/policies.ts'
import { renderPolicies } from '../../src/export/render.ts'
import type { KubeObject } from '../../src/model/types.ts'
import { evaluateCel, MUTATION_WRAPPERS, parseCel } from '../helpers/admission-policy.ts'

const strings = { type: 'array', items: { type: 'string', minLength: 1 } }
const qualifiedName = '^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$'
const dnsSubdomain = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
const labelValue = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'

const metadata = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: dnsSubdomain, maxLength: 253 },
    labels: { type: 'object', additionalProperties: { type: 'string', pattern: labelValue, maxLength: 63 } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
}
const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: { key: { type: 'string' }, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: strings },
        // In and NotIn need values; Exists and DoesNotExist take none.
        if: { properties: { operator: { enum: ['In', 'NotIn'] } } },
        then: { required: ['values'], properties: { values: { minItems: 1 } } },
        else: { not: { required: ['values'] } },
      },
    },
  },
}
const ruleWithOperations = (operations: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required: ['apiGroups', 'apiVersions', 'operations', 'resources'],
  properties: {
    apiGroups: { type: 'array', items: { type: 'string' }, minItems: 1 },
    apiVersions: { ...strings, minItems: 1 },
    operations: { type: 'array', items: { enum: operations }, minItems: 1, uniqueItems: true },
    resources: { ...strings, minItems: 1 },
    resourceNames: strings,
    scope: { enum: ['Cluster', 'Namespaced', '*'] },
  },
})
const matchResources = (operations: string[]) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    namespaceSelector: labelSelector,
    objectSelector: labelSelector,
    resourceRules: { type: 'array', items: ruleWithOperations(operations) },
    excludeResourceRules: { type: 'array', items: ruleWithOperations(operations) },
    matchPolicy: { enum: ['Exact', 'Equivalent'] },
  },
})
const expression = { type: 'string', minLength: 1 }
const matchConditions = {
  type: 'array',
  maxItems: 64,
  items: { type: 'object', additionalProperties: false, required: ['name', 'expression'], properties: { name: { type: 'string', pattern: qualifiedName, maxLength: 63 }, expression } },
}
const variables = {
  type: 'array',
  items: { type: 'object', additionalProperties: false, required: ['name', 'expression'], properties: { name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, expression } },
}
const kind = (apiVersions: string[], name: string, spec: object) => ({
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: { apiVersion: { enum: apiVersions }, kind: { const: name }, metadata, spec },
})
const paramRef = { type: 'object' }

const validatingPolicy = kind(['admissionregistration.k8s.io/v1'], 'ValidatingAdmissionPolicy', {
  type: 'object',
  additionalProperties: false,
  required: ['matchConstraints'],
  anyOf: [{ required: ['validations'] }, { required: ['auditAnnotations'] }],
  properties: {
    paramKind: { type: 'object' },
    matchConstraints: { ...matchResources(['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*']), required: ['resourceRules'] },
    validations: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['expression'],
        properties: { expression, message: { type: 'string' }, messageExpression: expression, reason: { enum: ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'] } },
      },
    },
    failurePolicy: { enum: ['Ignore', 'Fail'] },
    auditAnnotations: { type: 'array' },
    matchConditions,
    variables,
  },
})
const validatingBinding = kind(['admissionregistration.k8s.io/v1'], 'ValidatingAdmissionPolicyBinding', {
  type: 'object',
  additionalProperties: false,
  required: ['policyName', 'validationActions'],
  properties: {
    policyName: { type: 'string', pattern: dnsSubdomain },
    paramRef,
    matchResources: matchResources(['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*']),
    validationActions: { type: 'array', items: { enum: ['Deny', 'Warn', 'Audit'] }, minItems: 1, uniqueItems: true, not: { allOf: [{ contains: { const: 'Deny' } }, { contains: { const: 'Warn' } }] } },
  },
})
const MUTATING = ['admissionregistration.k8s.io/v1beta1', 'admissionregistration.k8s.io/v1']
const mutatingPolicy = kind(MUTATING, 'MutatingAdmissionPolicy', {
  type: 'object',
  additionalProperties: false,
  required: ['matchConstraints', 'mutations'],
  properties: {
    paramKind: { type: 'object' },
    // A MutatingAdmissionPolicy mutates on CREATE and UPDATE only.
    matchConstraints: { ...matchResources(['CREATE', 'UPDATE']), required: ['resourceRules'] },
    variables,
    mutations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['patchType'],
        properties: {
          patchType: { enum: ['ApplyConfiguration', 'JSONPatch'] },
          applyConfiguration: { type: 'object', additionalProperties: false, required: ['expression'], properties: { expression } },
          jsonPatch: { type: 'object', additionalProperties: false, required: ['expression'], properties: { expression } },
        },
        oneOf: [
          { properties: { patchType: { const: 'JSONPatch' } }, required: ['jsonPatch'], not: { required: ['applyConfiguration'] } },
          { properties: { patchType: { const: 'ApplyConfiguration' } }, required: ['applyConfiguration'], not: { required: ['jsonPatch'] } },
        ],
      },
    },
    failurePolicy: { enum: ['Ignore', 'Fail'] },
    matchConditions,
    reinvocationPolicy: { enum: ['Never', 'IfNeeded'] },
  },
})
const mutatingBinding = kind(MUTATING, 'MutatingAdmissionPolicyBinding', {
  type: 'object',
  additionalProperties: false,
  required: ['policyName'],
  properties: { policyName: { type: 'string', pattern: dnsSubdomain }, paramRef, matchResources: matchResources(['CREATE', 'UPDATE']) },
})

const ajv = new Ajv({ allErrors: true, strict: false })
const validators = {
  ValidatingAdmissionPolicy: ajv.compile(validatingPolicy),
  ValidatingAdmissionPolicyBinding: ajv.compile(validatingBinding),
  MutatingAdmissionPolicy: ajv.compile(mutatingPolicy),
  MutatingAdmissionPolicyBinding: ajv.compile(mutatingBinding),
} as Record<string, ReturnType<typeof ajv.compile>>

// The CEL functions and macros Kubernetes 1.30's CEL has that the policies may use (standard CEL, the
// strings extension, regex matches); anything else is a mistake or needs a newer API server.
const CEL_FUNCTIONS = new Set(['has', 'size', 'all', 'exists', 'exists_one', 'filter', 'map', 'matches', 'startsWith', 'endsWith', 'contains', 'split', 'join', 'trim', 'substring', 'indexOf', 'string', 'int', 'double', 'type', 'dyn'])

function expressionsOf(document: KubeObject): string[] {
  const spec = document.spec as Record<string, { expression?: string; messageExpression?: string }[] | undefined>
  return [...(spec['matchConditions'] ?? []), ...(spec['variables'] ?? []), ...(spec['validations'] ?? [])].flatMap((e) => [e.expression, e.messageExpression].filter((x): x is string => typeof x === 'string'))
}

const configs = {
  shipped: '',
  'audit mode, approvers, warn rules': 'mode: audit\nexemptions: {approvers: {users: [boss], groups: [platform]}, forbiddenRules: [probe-port]}\nrules: {readiness-probe: {action: warn}, liveness-probe: {action: off}}',
  'exec style, no maxDays': 'exemptions: {maxDays: 0, requireReason: false}\nrules: {pre-stop: {style: exec}}\nservingContainers: {ignore: [], nonServingPortNames: [a-b, "c.d"]}',
}

for (const [name, yaml] of Object.entries(configs)) {
  for (const version of [{ major: 1, minor: 30 }, { major: 1, minor: 35 }, { major: 1, minor: 36 }]) {
    const mutating = version.minor >= 34
    t.test(`${name}, Kubernetes 1.${version.minor}${mutating ? ', --mutating' : ''}`, async (t) => {
      const config = parseConfig(yaml, name)
      const result = exportPolicies(config, { kubernetesVersion: version, mutating })
      // What a user applies: the rendered YAML, read back.
      const text = renderPolicies(result, config, { version: '0', configSource: 'test', kubernetesVersion: version, mutating })
      const documents = parseAllDocuments(text).map((d) => d.toJS() as KubeObject)
      t.same(documents, JSON.parse(JSON.stringify(result.documents)), 'the YAML holds exactly the objects')
      const names = new Set<string>()
      for (const document of documents) {
        const label = `${document.kind} ${document.metadata?.name}`
        const validate = validators[document.kind!]
        t.ok(validate, `${label}: a kind the schema knows`)
        t.ok(validate!(document), `${label}: ${ajv.errorsText(validate!.errors)}`)
        t.notOk(names.has(`${document.kind}/${document.metadata!.name}`), `${label}: a unique name`)
        names.add(`${document.kind}/${document.metadata!.name}`)
        if (document.kind!.endsWith('Binding')) {
          t.ok(names.has(`${document.kind!.replace('Binding', '')}/${(document.spec as { policyName: string }).policyName}`), `${label}: binds a policy before it`)
          continue
        }
        const spec = document.spec as { variables: { name: string }[]; matchConditions: { name: string }[]; mutations?: { jsonPatch: { expression: string } }[] }
        t.equal(new Set(spec.variables.map((v) => v.name)).size, spec.variables.length, `${label}: unique variable names`)
        t.equal(new Set(spec.matchConditions.map((c) => c.name)).size, spec.matchConditions.length, `${label}: unique matchCondition names`)
        for (const cel of expressionsOf(document)) {
          const called = [...cel.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\(/g)].map((m) => m[1]!)
          t.same(called.filter((f) => !CEL_FUNCTIONS.has(f)), [], `${label}: only functions Kubernetes' CEL has`)
          t.doesNotThrow(() => parseCel(cel), `${label}: CEL that parses`)
        }
        for (const mutation of spec.mutations ?? []) t.ok(Object.values(MUTATION_WRAPPERS).includes(mutation.jsonPatch.expression), `${label}: a mutation the tests can follow`)
      }
    })
  }
}

t.test('the schema and checks refuse what the API server refuses', async (t) => {
  const { documents } = exportPolicies(parseConfig('', 'shipped'), { kubernetesVersion: { major: 1, minor: 36 }, mutating: true })
  const policy = documents.find((d) => d.kind === 'ValidatingAdmissionPolicy')!
  const binding = documents.find((d) => d.kind === 'ValidatingAdmissionPolicyBinding')!
  const mutating = documents.find((d) => d.kind === 'MutatingAdmissionPolicy')!
  const spec = (d: KubeObject) => d.spec as Record<string, unknown>
  t.notOk(validators['ValidatingAdmissionPolicy']!({ ...policy, spec: { ...spec(policy), validation: [] } }), 'an unknown field')
  t.notOk(validators['ValidatingAdmissionPolicy']!({ ...policy, spec: { ...spec(policy), failurePolicy: 'Deny' } }), 'a failurePolicy that is not one')
  t.notOk(validators['ValidatingAdmissionPolicyBinding']!({ ...binding, spec: { ...spec(binding), validationActions: ['Deny', 'Warn'] } }), 'Deny with Warn')
  t.notOk(validators['MutatingAdmissionPolicy']!({ ...mutating, spec: { ...spec(mutating), mutations: [{ patchType: 'ApplyConfiguration', jsonPatch: { expression: 'x' } }] } }), 'a mutation without its expression')
  t.notOk(validators['MutatingAdmissionPolicy']!({ ...mutating, apiVersion: 'admissionregistration.k8s.io/v1alpha1' }), 'v1alpha1')
  t.throws(() => parseCel('object.spec.containers.all(c, has(c.name)'), /RPAREN/, 'unbalanced CEL does not parse')
  // Type errors show when evaluated, as the parity tests evaluate every expression.
  t.throws(() => evaluateCel("object.spec.containers.map(c, {'a': c.name, 'b': 1})", { object: { spec: { containers: [{ name: 'a' }] } } }), /wrong type/, 'a map literal of mixed types fails (Kubernetes compiles with HomogeneousAggregateLiterals)')
})
