package main

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	admissionv1beta1 "k8s.io/api/admissionregistration/v1beta1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/apiserver/pkg/cel/environment"
	sigsjson "sigs.k8s.io/json"
)

// exported: the objects of one export, decoded into the API server's types (v1beta1
// MutatingAdmissionPolicies converted to v1 for compiling and evaluating).
type exported struct {
	validating []*admissionv1.ValidatingAdmissionPolicy
	vBindings  []*admissionv1.ValidatingAdmissionPolicyBinding
	mutating   []*admissionv1.MutatingAdmissionPolicy
	mBindings  []*admissionv1.MutatingAdmissionPolicyBinding
}

// strict decodes JSON as the API server decodes a request body with fieldValidation=Strict (kubectl's
// default): case-sensitive, unknown and duplicate fields are errors.
func strict(data []byte, into any) error {
	strictErrors, err := sigsjson.UnmarshalStrict(data, into, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strictErrors) > 0 {
		return fmt.Errorf("%v", strictErrors)
	}
	return nil
}

// convert copies a v1beta1 object into its v1 twin (the fields hitless writes are the same in both).
func convert(from, to any) error {
	data, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return strict(data, to)
}

// decodeInto decodes doc strictly and appends it to list; with beta, it is decoded strictly as that
// v1beta1 object first and then converted to the v1 type.
func decodeInto[T any](doc []byte, list *[]*T, beta any) error {
	var object T
	if beta != nil {
		if err := strict(doc, beta); err != nil {
			return err
		}
		if err := convert(beta, &object); err != nil {
			return err
		}
	} else if err := strict(doc, &object); err != nil {
		return err
	}
	*list = append(*list, &object)
	return nil
}

func decodeExport(r *report, e exportInput) (*exported, bool) {
	docs, err := splitDocuments(e.YAML)
	if err != nil {
		r.fail("decode", "%s: sigs.k8s.io/yaml cannot read it: %v", e.Name, err)
		return nil, false
	}
	out := &exported{}
	ok := true
	for i, doc := range docs {
		r.Objects++
		var meta metav1.TypeMeta
		if err := json.Unmarshal(doc, &meta); err != nil {
			r.fail("decode", "%s, document %d: %v", e.Name, i, err)
			ok = false
			continue
		}
		where := fmt.Sprintf("%s, document %d (%s %s)", e.Name, i, meta.APIVersion, meta.Kind)
		var err error
		switch meta.APIVersion + " " + meta.Kind {
		case "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy":
			err = decodeInto(doc, &out.validating, nil)
		case "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding":
			err = decodeInto(doc, &out.vBindings, nil)
		case "admissionregistration.k8s.io/v1 MutatingAdmissionPolicy":
			err = decodeInto(doc, &out.mutating, nil)
		case "admissionregistration.k8s.io/v1 MutatingAdmissionPolicyBinding":
			err = decodeInto(doc, &out.mBindings, nil)
		case "admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy":
			err = decodeInto(doc, &out.mutating, &admissionv1beta1.MutatingAdmissionPolicy{})
		case "admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicyBinding":
			err = decodeInto(doc, &out.mBindings, &admissionv1beta1.MutatingAdmissionPolicyBinding{})
		default:
			err = fmt.Errorf("not an object export-policies writes")
		}
		if err != nil {
			r.fail("decode", "%s: %v", where, err)
			ok = false
		}
	}
	return out, ok
}

// defaulted: the defaults the API server gives these objects when it stores them
// (SetDefaults_MatchResources of k8s.io/kubernetes, which Debian does not package: an unset
// namespaceSelector or objectSelector matches everything, {}); the policy matcher requires them set.
func defaulted(x *exported) {
	fill := func(m *admissionv1.MatchResources) {
		if m == nil {
			return
		}
		if m.NamespaceSelector == nil {
			m.NamespaceSelector = &metav1.LabelSelector{}
		}
		if m.ObjectSelector == nil {
			m.ObjectSelector = &metav1.LabelSelector{}
		}
	}
	for _, p := range x.validating {
		fill(p.Spec.MatchConstraints)
	}
	for _, p := range x.mutating {
		fill(p.Spec.MatchConstraints)
	}
	for _, b := range x.vBindings {
		fill(b.Spec.MatchResources)
	}
	for _, b := range x.mBindings {
		fill(b.Spec.MatchResources)
	}
}

// validateObjects: what of the API server's validation of these objects its libraries hold (the
// admissionregistration validation itself lives in k8s.io/kubernetes, which Debian does not package):
// object metadata, label selectors, and that every binding names a policy of the export.
func validateObjects(r *report, e exportInput, x *exported) {
	errs := field.ErrorList{}
	meta := func(kind string, m *metav1.ObjectMeta) {
		errs = append(errs, apivalidation.ValidateObjectMeta(m, false, apivalidation.NameIsDNSSubdomain, field.NewPath(kind, m.Name, "metadata"))...)
	}
	selector := func(kind, name string, resources *admissionv1.MatchResources) {
		if resources == nil {
			return
		}
		path := field.NewPath(kind, name, "spec", "matchResources")
		if resources.NamespaceSelector != nil {
			errs = append(errs, metav1validation.ValidateLabelSelector(resources.NamespaceSelector, metav1validation.LabelSelectorValidationOptions{}, path.Child("namespaceSelector"))...)
		}
		if resources.ObjectSelector != nil {
			errs = append(errs, metav1validation.ValidateLabelSelector(resources.ObjectSelector, metav1validation.LabelSelectorValidationOptions{}, path.Child("objectSelector"))...)
		}
	}
	policies := map[string]bool{}
	for _, p := range x.validating {
		meta("ValidatingAdmissionPolicy", &p.ObjectMeta)
		policies["v/"+p.Name] = true
	}
	for _, p := range x.mutating {
		meta("MutatingAdmissionPolicy", &p.ObjectMeta)
		policies["m/"+p.Name] = true
	}
	for _, b := range x.vBindings {
		meta("ValidatingAdmissionPolicyBinding", &b.ObjectMeta)
		selector("ValidatingAdmissionPolicyBinding", b.Name, b.Spec.MatchResources)
		if !policies["v/"+b.Spec.PolicyName] {
			errs = append(errs, field.NotFound(field.NewPath("ValidatingAdmissionPolicyBinding", b.Name, "spec", "policyName"), b.Spec.PolicyName))
		}
	}
	for _, b := range x.mBindings {
		meta("MutatingAdmissionPolicyBinding", &b.ObjectMeta)
		selector("MutatingAdmissionPolicyBinding", b.Name, b.Spec.MatchResources)
		if !policies["m/"+b.Spec.PolicyName] {
			errs = append(errs, field.NotFound(field.NewPath("MutatingAdmissionPolicyBinding", b.Name, "spec", "policyName"), b.Spec.PolicyName))
		}
	}
	for _, err := range errs {
		r.fail("validate", "%s: %v", e.Name, err)
	}
}

// compiled: a policy's expressions compiled as the API server's plugins compile them (compilePolicy,
// unexported there, composed here from the same compilers).
type compiled struct {
	compiler *plugincel.CompositedCompiler
	matcher  matchconditions.Matcher
	errors   []string
	// validating
	validations plugincel.ConditionEvaluator
	messages    plugincel.ConditionEvaluator
	// mutating
	patchers []patch.Patcher
}

var (
	withAuthorizer    = plugincel.OptionalVariableDeclarations{HasParams: false, HasAuthorizer: true}
	withoutAuthorizer = plugincel.OptionalVariableDeclarations{HasParams: false, HasAuthorizer: false}
)

func compileErrors(evaluator interface{ CompilationErrors() []error }, where string, into *[]string) {
	for _, err := range evaluator.CompilationErrors() {
		*into = append(*into, fmt.Sprintf("%s: %v", where, err))
	}
}

func newCompiler(minor int) *plugincel.CompositedCompiler {
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(version.MajorMinor(1, uint(minor))))
	if err != nil {
		panic(err)
	}
	return compiler
}

func compileShared(compiler *plugincel.CompositedCompiler, variables []admissionv1.Variable, conditions []admissionv1.MatchCondition, failurePolicy *admissionv1.FailurePolicyType, name string, mode environment.Type, c *compiled) {
	for i, v := range variables {
		result := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, withAuthorizer, mode)
		if result.Error != nil {
			c.errors = append(c.errors, fmt.Sprintf("spec.variables[%d] (%s): %v", i, v.Name, result.Error))
		}
	}
	if len(conditions) > 0 {
		accessors := make([]plugincel.ExpressionAccessor, len(conditions))
		for i := range conditions {
			accessors[i] = (*matchconditions.MatchCondition)(&conditions[i])
		}
		evaluator := compiler.CompileCondition(accessors, withAuthorizer, mode)
		compileErrors(evaluator, "spec.matchConditions", &c.errors)
		c.matcher = matchconditions.NewMatcher(evaluator, failurePolicy, "policy", "validate", name)
	}
}

func compileValidating(p *admissionv1.ValidatingAdmissionPolicy, minor int, mode environment.Type) *compiled {
	c := &compiled{compiler: newCompiler(minor)}
	compileShared(c.compiler, p.Spec.Variables, p.Spec.MatchConditions, p.Spec.FailurePolicy, p.Name, mode, c)
	validations := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	var messages []plugincel.ExpressionAccessor
	for i, v := range p.Spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages = append(messages, &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression})
		}
	}
	c.validations = c.compiler.CompileCondition(validations, withAuthorizer, mode)
	compileErrors(c.validations, "spec.validations", &c.errors)
	c.messages = c.compiler.CompileCondition(messages, withoutAuthorizer, mode)
	compileErrors(c.messages, "spec.validations[].messageExpression", &c.errors)
	return c
}

func compileMutating(p *admissionv1.MutatingAdmissionPolicy, minor int, mode environment.Type) *compiled {
	c := &compiled{compiler: newCompiler(minor)}
	compileShared(c.compiler, p.Spec.Variables, p.Spec.MatchConditions, p.Spec.FailurePolicy, p.Name, mode, c)
	options := withAuthorizer
	options.HasPatchTypes = true
	for i, m := range p.Spec.Mutations {
		switch {
		case m.PatchType == admissionv1.PatchTypeJSONPatch && m.JSONPatch != nil:
			evaluator := c.compiler.CompileMutatingEvaluator(&patch.JSONPatchCondition{Expression: m.JSONPatch.Expression}, options, mode)
			compileErrors(evaluator, fmt.Sprintf("spec.mutations[%d].jsonPatch", i), &c.errors)
			c.patchers = append(c.patchers, patch.NewJSONPatcher(evaluator))
		case m.PatchType == admissionv1.PatchTypeApplyConfiguration && m.ApplyConfiguration != nil:
			evaluator := c.compiler.CompileMutatingEvaluator(&patch.ApplyConfigurationCondition{Expression: m.ApplyConfiguration.Expression}, options, mode)
			compileErrors(evaluator, fmt.Sprintf("spec.mutations[%d].applyConfiguration", i), &c.errors)
			c.patchers = append(c.patchers, patch.NewApplyConfigurationPatcher(evaluator))
		default:
			c.errors = append(c.errors, fmt.Sprintf("spec.mutations[%d]: patchType %q without its field", i, m.PatchType))
		}
	}
	return c
}

func expressionCount(x *exported) int {
	n := 0
	for _, p := range x.validating {
		n += len(p.Spec.Variables) + len(p.Spec.MatchConditions) + len(p.Spec.Validations)
		for _, v := range p.Spec.Validations {
			if v.MessageExpression != "" {
				n++
			}
		}
	}
	for _, p := range x.mutating {
		n += len(p.Spec.Variables) + len(p.Spec.MatchConditions) + len(p.Spec.Mutations)
	}
	return n
}

func parseMinor(v string) int {
	parsed, err := version.ParseMajorMinor(v)
	if err != nil || parsed.Major() != 1 {
		panic(fmt.Sprintf("not a Kubernetes 1.x version: %q", v))
	}
	return int(parsed.Minor())
}

// checkExport: decode, validate, compile with the environment of the export's Kubernetes version as a
// new object (environment.NewExpressions, what a create is checked against), then evaluate its requests.
func checkExport(r *report, e exportInput) {
	x, decoded := decodeExport(r, e)
	if x == nil {
		return
	}
	// What decoded is validated and compiled even when some documents did not.
	validateObjects(r, e, x)
	minor := parseMinor(e.Version)
	r.Expressions += expressionCount(x)
	valid := true
	for _, p := range x.validating {
		for _, err := range compileValidating(p, minor, environment.NewExpressions).errors {
			r.fail("compile", "%s, ValidatingAdmissionPolicy %s: %s", e.Name, p.Name, err)
			valid = false
		}
	}
	for _, p := range x.mutating {
		for _, err := range compileMutating(p, minor, environment.NewExpressions).errors {
			r.fail("compile", "%s, MutatingAdmissionPolicy %s: %s", e.Name, p.Name, err)
			valid = false
		}
	}
	if len(e.Requests) > 0 {
		if !valid || !decoded {
			r.fail("evaluate", "%s: %d requests not evaluated, the export does not decode or compile", e.Name, len(e.Requests))
			return
		}
		defaulted(x)
		evaluate(r, e, x, minor)
	}
}
