package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// costs: the largest runtime CEL cost seen for a policy over every request, as the API server counts
// it: per policy and binding (validations, the variables they use, messageExpressions; limit
// celconfig.RuntimeCELCostBudget), and per expression (a variable with the variables it uses, which
// bounds each expression's own cost; limit celconfig.PerCallLimit).
type costs struct {
	Policy               int64  `json:"policy"`
	PolicyLimit          int64  `json:"policyLimit"`
	Expression           int64  `json:"expression"`
	ExpressionName       string `json:"expressionName"`
	ExpressionLimit      int64  `json:"expressionLimit"`
	MatchConditions      int64  `json:"matchConditions"`
	MatchConditionsLimit int64  `json:"matchConditionsLimit"`
}

const unit = "\x1f"
const record = "\x1e"

// probe: the violations variable of a ValidatingAdmissionPolicy, as text, to compare finding by finding.
const probe = "variables.violations.map(f, f.container + '\\x1f' + f.message + '\\x1f' + f.because + '\\x1f' + f.fix).join('\\x1e')"

type validatingPolicy struct {
	policy      *admissionv1.ValidatingAdmissionPolicy
	rule        string
	c           *compiled
	validator   validating.Validator
	probe       plugincel.ConditionEvaluator
	perVariable []plugincel.ConditionEvaluator
}

type mutatingPolicy struct {
	policy *admissionv1.MutatingAdmissionPolicy
	rule   string
	c      *compiled
}

var objectInterfaces = admission.NewObjectInterfacesFromScheme(clientgoscheme.Scheme)

type requestContext struct {
	namespace *corev1.Namespace
	matcher   generic.PolicyMatcher
	gvk       schema.GroupVersionKind
	gvr       schema.GroupVersionResource
	user      user.Info
	old       *unstructured.Unstructured
	input     requestInput
}

func (rc *requestContext) attributes(object *unstructured.Unstructured) *admission.VersionedAttributes {
	namespace := ""
	if rc.gvk.Kind != "Namespace" || rc.input.SubResource != "" {
		namespace = rc.namespace.Name
	}
	var old runtime.Object
	if rc.old != nil {
		old = rc.old
	}
	attr := admission.NewAttributesRecord(object, old, rc.gvk, namespace, object.GetName(), rc.gvr, rc.input.SubResource, admission.Operation(rc.input.Operation), nil, false, rc.user)
	versioned := &admission.VersionedAttributes{Attributes: attr, VersionedKind: rc.gvk, VersionedObject: object}
	if rc.old != nil {
		versioned.VersionedOldObject = rc.old
	}
	return versioned
}

// integers: JSON as the API server holds it for CEL after decoding into its types: whole numbers
// int64 (as k8s.io/apimachinery/pkg/util/json decodes them), null fields absent.
func integers(value any) any {
	switch v := value.(type) {
	case map[string]any:
		for key, item := range v {
			if item == nil {
				// The API server decodes into its types: a null field is an absent one.
				delete(v, key)
				continue
			}
			v[key] = integers(item)
		}
	case []any:
		for i, item := range v {
			v[i] = integers(item)
		}
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	}
	return value
}

func newRequestContext(in requestInput) (*requestContext, error) {
	for _, object := range []map[string]any{in.Object, in.OldObject, in.Namespace, in.Patched} {
		integers(object)
	}
	object := &unstructured.Unstructured{Object: in.Object}
	gvk := object.GroupVersionKind()
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	name := object.GetNamespace()
	if gvk.Kind == "Namespace" && in.SubResource != "" {
		// namespaces/status and /finalize: the API server's request namespace is the Namespace's own name,
		// and the policy matcher reads its stored labels from the lister (decision 0042).
		name = object.GetName()
	}
	if name == "" {
		name = "default"
	}
	namespace := &corev1.Namespace{}
	if in.Namespace != nil {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(in.Namespace, namespace); err != nil {
			return nil, err
		}
	} else {
		namespace.Name = name
	}
	if namespace.Labels == nil {
		namespace.Labels = map[string]string{}
	}
	// The API server labels every Namespace with its name.
	namespace.Labels["kubernetes.io/metadata.name"] = namespace.Name
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	if err := indexer.Add(namespace); err != nil {
		return nil, err
	}
	rc := &requestContext{
		namespace: namespace,
		matcher:   generic.NewPolicyMatcher(matching.NewMatcher(corelisters.NewNamespaceLister(indexer), nil)),
		gvk:       gvk,
		gvr:       gvr,
		user:      &user.DefaultInfo{Name: in.UserInfo.Username, Groups: in.UserInfo.Groups},
		input:     in,
	}
	if in.OldObject != nil {
		rc.old = &unstructured.Unstructured{Object: in.OldObject}
	}
	return rc, nil
}

func ruleOf(annotations map[string]string) string { return annotations["hitless.dev/rule"] }

func evaluate(r *report, e exportInput, x *exported, minor int) {
	var vps []*validatingPolicy
	for _, p := range x.validating {
		c := compileValidating(p, minor, environment.StoredExpressions)
		vp := &validatingPolicy{policy: p, rule: ruleOf(p.Annotations), c: c}
		vp.validator = validating.NewValidator(c.validations, c.matcher, c.compiler.CompileCondition(nil, withAuthorizer, environment.StoredExpressions), c.messages, p.Spec.FailurePolicy, nil)
		vp.probe = c.compiler.CompileCondition([]plugincel.ExpressionAccessor{&validating.MessageExpressionCondition{MessageExpression: probe}}, withoutAuthorizer, environment.StoredExpressions)
		for _, v := range p.Spec.Variables {
			vp.perVariable = append(vp.perVariable, c.compiler.CompileCondition([]plugincel.ExpressionAccessor{&validating.Variable{Name: v.Name, Expression: "variables." + v.Name}}, withAuthorizer, environment.StoredExpressions))
		}
		vps = append(vps, vp)
	}
	mps := map[string]*mutatingPolicy{}
	for _, p := range x.mutating {
		mps[ruleOf(p.Annotations)] = &mutatingPolicy{policy: p, rule: ruleOf(p.Annotations), c: compileMutating(p, minor, environment.StoredExpressions)}
	}
	for _, in := range e.Requests {
		r.Requests++
		where := e.Name + ": " + in.Name
		rc, err := newRequestContext(in)
		if err != nil {
			r.fail("evaluate", "%s: %v", where, err)
			continue
		}
		// Costs over the shipped config's requests (every fixture and made case): each variable is
		// evaluated on its own there, which would be slow over every scenario.
		validate(r, where, rc, x, vps, e.Name == "the shipped config")
		for _, order := range e.Orders {
			mutate(r, where, rc, x, mps, order)
		}
	}
}

// bound: the bindings of a policy that select the request (the policy's matchConstraints first), as the
// API server's generic dispatcher picks them.
func bound[B any](rc *requestContext, object *unstructured.Unstructured, definition generic.PolicyAccessor, bindings []B, accessor func(B) generic.BindingAccessor) (schema.GroupVersionResource, []B, error) {
	attr := rc.attributes(object)
	matches, gvr, _, err := rc.matcher.DefinitionMatches(attr, objectInterfaces, definition)
	if err != nil || !matches {
		return gvr, nil, err
	}
	var out []B
	for _, b := range bindings {
		binding := accessor(b)
		if binding.GetPolicyName().Name != definition.GetName() {
			continue
		}
		ok, err := rc.matcher.BindingMatches(attr, objectInterfaces, binding)
		if err != nil {
			return gvr, nil, err
		}
		if ok {
			out = append(out, b)
		}
	}
	return gvr, out, nil
}

func outcomeOf(actions []admissionv1.ValidationAction) string {
	has := func(a admissionv1.ValidationAction) bool {
		for _, b := range actions {
			if a == b {
				return true
			}
		}
		return false
	}
	switch {
	case has(admissionv1.Deny):
		return "deny"
	case has(admissionv1.Audit):
		return "audit"
	default:
		return "warn"
	}
}

// conflict: pre-stop's conflicts, whose webhook fix shows the owner's hook as YAML (compared without it).
func conflict(message string) bool { return strings.Contains(message, "hitless injected earlier") }

func sortedFindings(list []finding) []finding {
	out := make([]finding, len(list))
	for i, f := range list {
		if conflict(f.Message) {
			f.Fix = ""
		}
		out[i] = f
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := json.Marshal(out[i])
		b, _ := json.Marshal(out[j])
		return string(a) < string(b)
	})
	return out
}

func validate(r *report, where string, rc *requestContext, x *exported, vps []*validatingPolicy, costed bool) {
	object := &unstructured.Unstructured{Object: rc.input.Object}
	seen := map[string]bool{}
	ctx := context.Background()
	for _, vp := range vps {
		gvr, bindings, err := bound(rc, object, validating.NewValidatingAdmissionPolicyAccessor(vp.policy), x.vBindings, validating.NewValidatingAdmissionPolicyBindingAccessor)
		if err != nil {
			r.fail("match", "%s, %s: %v", where, vp.policy.Name, err)
			continue
		}
		if len(bindings) == 0 {
			continue
		}
		if len(bindings) > 1 {
			r.fail("match", "%s, %s: %d bindings select the request", where, vp.policy.Name, len(bindings))
			continue
		}
		r.Verdicts++
		attr := rc.attributes(object)
		result := vp.validator.Validate(ctx, gvr, attr, nil, rc.namespace, celconfig.RuntimeCELCostBudget, nil)
		if costed {
			recordCosts(r, vp, rc, attr, gvr)
		}
		var denied []validating.PolicyDecision
		for _, d := range result.Decisions {
			if d.Evaluation == validating.EvalError {
				r.fail("evaluate", "%s, %s: %s", where, vp.policy.Name, d.Message)
			}
			if d.Action == validating.ActionDeny {
				denied = append(denied, d)
			}
		}
		expected, wanted := rc.input.Verdicts[vp.rule]
		if len(denied) == 0 {
			if wanted {
				r.fail("verdict", "%s, %s: admitted; the webhook: %s %s", where, vp.policy.Name, expected.Outcome, show(expected.Findings))
			}
			continue
		}
		seen[vp.rule] = true
		outcome := outcomeOf(bindings[0].Spec.ValidationActions)
		findings := violations(vp, ctx, attr, rc)
		if !wanted {
			r.fail("verdict", "%s, %s: %s (%s); the webhook lets it through", where, vp.policy.Name, outcome, denied[0].Message)
			continue
		}
		if outcome != expected.Outcome {
			r.fail("verdict", "%s, %s: %s; the webhook: %s", where, vp.policy.Name, outcome, expected.Outcome)
		}
		if got, want := sortedFindings(findings), sortedFindings(expected.Findings); !reflect.DeepEqual(got, want) {
			r.fail("findings", "%s, %s: %s; the webhook: %s", where, vp.policy.Name, show(got), show(want))
		}
		for _, f := range expected.Findings {
			if !strings.Contains(denied[0].Message, f.Message) {
				r.fail("message", "%s, %s: the message does not say %q: %s", where, vp.policy.Name, f.Message, denied[0].Message)
			}
		}
	}
	for rule, v := range rc.input.Verdicts {
		if !seen[rule] {
			found := false
			for _, vp := range vps {
				found = found || vp.rule == rule
			}
			if !found {
				r.fail("verdict", "%s: the webhook %ss for %s, which no policy exports", where, v.Outcome, rule)
			}
		}
	}
}

func violations(vp *validatingPolicy, ctx context.Context, attr *admission.VersionedAttributes, rc *requestContext) []finding {
	request := plugincel.CreateAdmissionRequest(attr.Attributes, metav1.GroupVersionResource(attr.GetResource()), metav1.GroupVersionKind(attr.VersionedKind))
	results, _, err := vp.probe.ForInput(ctx, attr, request, plugincel.OptionalVariableBindings{}, rc.namespace, celconfig.RuntimeCELCostBudget)
	if err != nil || len(results) != 1 || results[0].Error != nil {
		return []finding{{Message: fmt.Sprintf("probe failed: %v %v", err, results)}}
	}
	text, _ := results[0].EvalResult.Value().(string)
	var out []finding
	if text == "" {
		return out
	}
	for _, entry := range strings.Split(text, record) {
		parts := strings.Split(entry, unit)
		if len(parts) != 4 {
			return []finding{{Message: "probe: " + entry}}
		}
		out = append(out, finding{Container: parts[0], Message: parts[1], Because: parts[2], Fix: parts[3]})
	}
	return out
}

// recordCosts: the policy's runtime cost on this request (validations with the variables they use, then
// messageExpressions from what is left, as Validate spends it), and each variable's.
func recordCosts(r *report, vp *validatingPolicy, rc *requestContext, attr *admission.VersionedAttributes, gvr schema.GroupVersionResource) {
	ctx := context.Background()
	request := plugincel.CreateAdmissionRequest(attr.Attributes, metav1.GroupVersionResource(attr.GetResource()), metav1.GroupVersionKind(attr.VersionedKind))
	budget := int64(celconfig.RuntimeCELCostBudget)
	_, left, err := vp.c.validations.ForInput(ctx, attr, request, plugincel.OptionalVariableBindings{}, rc.namespace, budget)
	if err != nil {
		r.fail("cost", "%s: %v", vp.policy.Name, err)
		return
	}
	_, left, err = vp.c.messages.ForInput(ctx, attr, request, plugincel.OptionalVariableBindings{}, rc.namespace, left)
	if err != nil {
		r.fail("cost", "%s: %v", vp.policy.Name, err)
		return
	}
	entry := r.Costs[vp.policy.Name]
	entry.PolicyLimit = celconfig.RuntimeCELCostBudget
	entry.ExpressionLimit = celconfig.PerCallLimit
	entry.MatchConditionsLimit = celconfig.RuntimeCELCostBudgetMatchConditions
	if spent := budget - left; spent > entry.Policy {
		entry.Policy = spent
	}
	for i, evaluator := range vp.perVariable {
		_, left, err := evaluator.ForInput(ctx, attr, request, plugincel.OptionalVariableBindings{}, rc.namespace, budget)
		if err == nil && budget-left > entry.Expression {
			entry.Expression = budget - left
			entry.ExpressionName = vp.policy.Spec.Variables[i].Name
		}
	}
	r.Costs[vp.policy.Name] = entry
}

func normalized(object any) any {
	data, _ := json.Marshal(object)
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

// mutate: the MutatingAdmissionPolicies in `order` (rule ids), each on the object the one before left,
// through the mutating plugin's own patchers; the result must be the webhook's patched object, and a
// second round (reinvocation) must change nothing.
func mutate(r *report, where string, rc *requestContext, x *exported, mps map[string]*mutatingPolicy, order []string) {
	round := func(object *unstructured.Unstructured) (*unstructured.Unstructured, bool) {
		ctx := context.Background()
		for _, rule := range order {
			mp := mps[rule]
			if mp == nil {
				continue
			}
			gvr, bindings, err := bound(rc, object, mutating.NewMutatingAdmissionPolicyAccessor(mp.policy), x.mBindings, mutating.NewMutatingAdmissionPolicyBindingAccessor)
			if err != nil {
				r.fail("match", "%s, %s: %v", where, mp.policy.Name, err)
				return nil, false
			}
			if len(bindings) == 0 {
				continue
			}
			attr := rc.attributes(object)
			// One composition context per policy invocation, for its matchConditions and every
			// mutation, as the mutating dispatcher makes it.
			ctx := mp.c.compiler.CreateContext(ctx)
			if mp.c.matcher != nil {
				result := mp.c.matcher.Match(ctx, attr, nil, nil)
				if result.Error != nil {
					r.fail("evaluate", "%s, %s matchConditions: %v", where, mp.policy.Name, result.Error)
					return nil, false
				}
				if !result.Matches {
					continue
				}
			}
			for _, patcher := range mp.c.patchers {
				patched, err := patcher.Patch(ctx, patch.Request{MatchedResource: gvr, VersionedAttributes: attr, ObjectInterfaces: objectInterfaces, Namespace: rc.namespace}, celconfig.RuntimeCELCostBudget)
				if err != nil {
					r.fail("evaluate", "%s, %s: %v", where, mp.policy.Name, err)
					return nil, false
				}
				u, ok := patched.(*unstructured.Unstructured)
				if !ok {
					r.fail("evaluate", "%s, %s: patched into %T", where, mp.policy.Name, patched)
					return nil, false
				}
				attr.VersionedObject = u
				object = u
			}
		}
		return object, true
	}
	r.Mutations++
	first, ok := round(&unstructured.Unstructured{Object: runtime.DeepCopyJSON(rc.input.Object)})
	if !ok {
		return
	}
	label := strings.Join(order, ", ")
	if diff := firstDifference("$", normalized(first.Object), normalized(rc.input.Patched)); diff != "" {
		r.fail("mutate", "%s (%s): the policies' object and the webhook's differ at %s", where, label, diff)
		return
	}
	second, ok := round(&unstructured.Unstructured{Object: runtime.DeepCopyJSON(first.Object)})
	if ok && !reflect.DeepEqual(normalized(second.Object), normalized(first.Object)) {
		r.fail("mutate", "%s (%s): reinvoked, the policies patch again: %s", where, label, firstDifference("$", normalized(second.Object), normalized(first.Object)))
	}
}
