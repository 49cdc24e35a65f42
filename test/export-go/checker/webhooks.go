package main

// The webhook configurations hitless ships for Kubernetes >= 1.30 (issue 25, decision 0035), as the API
// server's webhook admission plugins treat them: `kubectl kustomize` of an overlay decoded strictly into
// admissionregistration/v1, every matchCondition compiled for a new object on 1.30 and 1.36, and every
// write of test/deploy/admission-writes.ts dispatched by the validating and mutating webhook plugins
// themselves (k8s.io/apiserver/pkg/admission/plugin/webhook/{validating,mutating}: rules, namespace and
// object predicates, matchConditions, failurePolicy) over informers of a fake clientset holding the
// configurations and the Namespaces, with the webhook Service resolving to a loopback port where nothing
// listens: hitless down. Compared with the JavaScript model of the same dispatch (the input carries it)
// and with what the design says (`intended`).

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/webhook"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/namespace"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/object"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/rules"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

type webhooksInput struct {
	Name       string            `json:"name"`
	YAML       string            `json:"yaml"`
	Namespaces []map[string]any  `json:"namespaces"`
	Writes     []dispatchedWrite `json:"writes"`
}

// hookOutcome: what one webhook does with one write ("true", "false" or "error"; conditions "" when
// not ruled or without matchConditions).
type hookOutcome struct {
	Ruled      bool   `json:"ruled"`
	Conditions string `json:"conditions,omitempty"`
	Called     string `json:"called"`
}

type dispatchedWrite struct {
	Name        string                 `json:"name"`
	Operation   string                 `json:"operation"`
	Object      map[string]any         `json:"object"`
	OldObject   map[string]any         `json:"oldObject"`
	Subresource string                 `json:"subresource"`
	UserInfo    userInfo               `json:"userInfo"`
	Model       map[string]hookOutcome `json:"model"`
	WhileDown   string                 `json:"whileDown"`
	Intended    string                 `json:"intended"`
}

// conditionVersions: the Kubernetes versions each matchCondition is compiled and evaluated for.
var conditionVersions = []int{30, 36}

type configurations struct {
	validating []*admissionv1.ValidatingWebhookConfiguration
	mutating   []*admissionv1.MutatingWebhookConfiguration
}

func decodeConfigurations(r *report, in webhooksInput) (*configurations, bool) {
	docs, err := splitDocuments(in.YAML)
	if err != nil {
		r.fail("webhooks", "%s: sigs.k8s.io/yaml cannot read it: %v", in.Name, err)
		return nil, false
	}
	out := &configurations{}
	for i, doc := range docs {
		var meta metav1.TypeMeta
		if err := json.Unmarshal(doc, &meta); err != nil {
			r.fail("webhooks", "%s, document %d: %v", in.Name, i, err)
			return nil, false
		}
		switch meta.APIVersion + " " + meta.Kind {
		case "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration":
			r.Objects++
			err = decodeInto(doc, &out.validating, nil)
		case "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration":
			r.Objects++
			err = decodeInto(doc, &out.mutating, nil)
		}
		if err != nil {
			r.fail("webhooks", "%s, document %d (%s %s): %v", in.Name, i, meta.APIVersion, meta.Kind, err)
			return nil, false
		}
	}
	if len(out.validating) == 0 || len(out.mutating) == 0 {
		r.fail("webhooks", "%s: %d validating and %d mutating webhook configurations", in.Name, len(out.validating), len(out.mutating))
		return nil, false
	}
	return out, true
}

// defaultWebhook: the defaults the API server gives a webhook when it stores it (SetDefaults_*Webhook and
// SetDefaults_Rule of k8s.io/kubernetes, which Debian does not package).
func defaultWebhook(failurePolicy **admissionv1.FailurePolicyType, matchPolicy **admissionv1.MatchPolicyType, namespaceSelector, objectSelector **metav1.LabelSelector, timeout **int32, rules []admissionv1.RuleWithOperations) {
	if *failurePolicy == nil {
		fail := admissionv1.Fail
		*failurePolicy = &fail
	}
	if *matchPolicy == nil {
		equivalent := admissionv1.Equivalent
		*matchPolicy = &equivalent
	}
	if *namespaceSelector == nil {
		*namespaceSelector = &metav1.LabelSelector{}
	}
	if *objectSelector == nil {
		*objectSelector = &metav1.LabelSelector{}
	}
	if *timeout == nil {
		ten := int32(10)
		*timeout = &ten
	}
	for i := range rules {
		if rules[i].Scope == nil {
			all := admissionv1.AllScopes
			rules[i].Scope = &all
		}
	}
}

// hooks: every webhook, defaulted, as the dispatcher's accessors (mutating first, as admission runs).
func (c *configurations) hooks() []webhook.WebhookAccessor {
	var out []webhook.WebhookAccessor
	for _, configuration := range c.mutating {
		for i := range configuration.Webhooks {
			h := &configuration.Webhooks[i]
			defaultWebhook(&h.FailurePolicy, &h.MatchPolicy, &h.NamespaceSelector, &h.ObjectSelector, &h.TimeoutSeconds, h.Rules)
			if h.ReinvocationPolicy == nil {
				never := admissionv1.NeverReinvocationPolicy
				h.ReinvocationPolicy = &never
			}
			out = append(out, webhook.NewMutatingWebhookAccessor(fmt.Sprintf("%s/%d", configuration.Name, i), configuration.Name, h))
		}
	}
	for _, configuration := range c.validating {
		for i := range configuration.Webhooks {
			h := &configuration.Webhooks[i]
			defaultWebhook(&h.FailurePolicy, &h.MatchPolicy, &h.NamespaceSelector, &h.ObjectSelector, &h.TimeoutSeconds, h.Rules)
			out = append(out, webhook.NewValidatingWebhookAccessor(fmt.Sprintf("%s/%d", configuration.Name, i), configuration.Name, h))
		}
	}
	return out
}

// conditionMatchers: each webhook's matchConditions compiled as a new object (NewExpressions: what a
// create or an update that changes them is checked against) for each version, to report compile errors,
// and as stored expressions to evaluate; failurePolicy Fail so that an evaluation error is reported as one.
func conditionMatchers(r *report, where string, h webhook.WebhookAccessor) map[int]matchconditions.Matcher {
	conditions := h.GetMatchConditions()
	if len(conditions) == 0 {
		return nil
	}
	accessors := make([]plugincel.ExpressionAccessor, len(conditions))
	for i := range conditions {
		accessors[i] = (*matchconditions.MatchCondition)(&conditions[i])
	}
	fail := admissionv1.Fail
	out := map[int]matchconditions.Matcher{}
	for _, minor := range conditionVersions {
		compiler := plugincel.NewConditionCompiler(environment.MustBaseEnvSet(version.MajorMinor(1, uint(minor))))
		fresh := compiler.CompileCondition(accessors, withAuthorizer, environment.NewExpressions)
		r.Expressions += len(conditions)
		for _, err := range fresh.CompilationErrors() {
			r.fail("compile", "%s, webhook %s, matchConditions on 1.%d: %v", where, h.GetName(), minor, err)
		}
		out[minor] = matchconditions.NewMatcher(compiler.CompileCondition(accessors, withAuthorizer, environment.StoredExpressions), &fail, "webhook", h.GetType(), h.GetName())
	}
	return out
}

// down: a webhook Service that resolves to a loopback port where nothing listens.
type down struct{ url *url.URL }

func (d down) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	return d.url, nil
}

func closedPort() (*url.URL, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	address := listener.Addr().String()
	listener.Close()
	return url.Parse("https://" + address)
}

type plugins struct {
	validating *validating.Plugin
	mutating   *mutating.Plugin
	namespaces *namespace.Matcher
	stop       chan struct{}
}

// newPlugins: the API server's webhook admission plugins, initialized as its admission chain does, over
// informers of a fake clientset that holds the configurations and the Namespaces.
func newPlugins(c *configurations, namespaces []*corev1.Namespace) (*plugins, error) {
	var objects []runtime.Object
	for _, n := range namespaces {
		objects = append(objects, n)
	}
	for _, v := range c.validating {
		objects = append(objects, v)
	}
	for _, m := range c.mutating {
		objects = append(objects, m)
	}
	client := fake.NewSimpleClientset(objects...)
	factory := informers.NewSharedInformerFactory(client, 0)
	endpoint, err := closedPort()
	if err != nil {
		return nil, err
	}
	v, err := validating.NewValidatingAdmissionWebhook(nil)
	if err != nil {
		return nil, err
	}
	m, err := mutating.NewMutatingWebhook(nil)
	if err != nil {
		return nil, err
	}
	p := &plugins{validating: v, mutating: m, stop: make(chan struct{})}
	v.SetExternalKubeClientSet(client)
	v.SetExternalKubeInformerFactory(factory)
	v.SetServiceResolver(down{endpoint})
	m.SetExternalKubeClientSet(client)
	m.SetExternalKubeInformerFactory(factory)
	m.SetServiceResolver(down{endpoint})
	if err := v.ValidateInitialization(); err != nil {
		return nil, err
	}
	if err := m.ValidateInitialization(); err != nil {
		return nil, err
	}
	p.namespaces = &namespace.Matcher{NamespaceLister: factory.Core().V1().Namespaces().Lister(), Client: client}
	factory.Start(p.stop)
	for informer, synced := range factory.WaitForCacheSync(p.stop) {
		if !synced {
			return nil, fmt.Errorf("informer %v did not sync", informer)
		}
	}
	return p, nil
}

// versioned: the dispatcher's conversion of the request to the version a webhook asks for (the objects
// here are already in it).
type versioned struct {
	attr admission.Attributes
	o    admission.ObjectInterfaces
}

func (v versioned) VersionedAttribute(gvk schema.GroupVersionKind) (*admission.VersionedAttributes, error) {
	return admission.NewVersionedAttributes(v.attr, gvk, v.o)
}

// writeAttributes: the admission attributes of a write as the API server builds them: for the
// Namespace resource the request's namespace is the Namespace's own name.
func writeAttributes(in dispatchedWrite) admission.Attributes {
	var object, old runtime.Object
	var subject *unstructured.Unstructured
	if in.Object != nil {
		integers(in.Object)
		subject = &unstructured.Unstructured{Object: in.Object}
		object = subject
	}
	if in.OldObject != nil {
		integers(in.OldObject)
		u := &unstructured.Unstructured{Object: in.OldObject}
		old = u
		if subject == nil {
			subject = u
		}
	}
	gvk := subject.GroupVersionKind()
	gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: resourceFor(gvk.Kind)}
	ns := subject.GetNamespace()
	if gvk.Kind == "Namespace" {
		ns = subject.GetName()
	}
	return admission.NewAttributesRecord(object, old, gvk, ns, subject.GetName(), gvr, in.Subresource, admission.Operation(in.Operation), nil, false,
		&user.DefaultInfo{Name: in.UserInfo.Username, Groups: in.UserInfo.Groups})
}

func resourceFor(kind string) string {
	return map[string]string{"Namespace": "namespaces", "Pod": "pods", "ReplicaSet": "replicasets", "Service": "services"}[kind]
}

// shouldCall: the dispatcher's own decision for one webhook (generic.Webhook.ShouldCallHook: namespace
// and object predicates, rules, matchConditions compiled by the plugin, the webhook's failurePolicy).
func (p *plugins) shouldCall(ctx context.Context, h webhook.WebhookAccessor, attr admission.Attributes, o admission.ObjectInterfaces) string {
	should := p.validating.ShouldCallHook
	if _, ok := h.GetMutatingWebhook(); ok {
		should = p.mutating.ShouldCallHook
	}
	invocation, err := should(ctx, h, attr, o, versioned{attr, o})
	if err != nil {
		return "error"
	}
	return tristate(invocation != nil, nil)
}

func tristate(matches bool, err error) string {
	switch {
	case err != nil:
		return "error"
	case matches:
		return "true"
	default:
		return "false"
	}
}

func checkWebhooks(r *report, in webhooksInput) {
	c, ok := decodeConfigurations(r, in)
	if !ok {
		return
	}
	var namespaces []*corev1.Namespace
	for _, raw := range in.Namespaces {
		n := &corev1.Namespace{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, n); err != nil {
			r.fail("webhooks", "%s: namespace: %v", in.Name, err)
			return
		}
		namespaces = append(namespaces, n)
	}
	// Defaulted before the fake clientset stores them, as the API server stores them defaulted.
	hooks := c.hooks()
	p, err := newPlugins(c, namespaces)
	if err != nil {
		r.fail("webhooks", "%s: the webhook plugins: %v", in.Name, err)
		return
	}
	defer close(p.stop)
	matchers := map[string]map[int]matchconditions.Matcher{}
	for _, h := range hooks {
		matchers[h.GetName()] = conditionMatchers(r, in.Name, h)
	}
	objects := objectInterfaces
	for _, write := range in.Writes {
		r.Writes++
		where := in.Name + ": " + write.Name
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		attr := writeAttributes(write)
		for _, h := range hooks {
			r.Dispatches++
			got := hookOutcome{}
			inNamespace, nsErr := p.namespaces.MatchNamespaceSelector(h, attr)
			selected, objErr := (&object.Matcher{}).MatchObjectSelector(h, attr)
			ruled := false
			for _, rule := range h.GetRules() {
				ruled = ruled || (&rules.Matcher{Rule: rule, Attr: attr}).Matches()
			}
			if nsErr != nil || objErr != nil {
				r.fail("dispatch", "%s, %s: selectors: %v %v", where, h.GetName(), nsErr, objErr)
			}
			got.Ruled = ruled && inNamespace && selected
			if got.Ruled && len(matchers[h.GetName()]) > 0 {
				results := map[int]string{}
				for _, minor := range conditionVersions {
					versionedAttr, err := versioned{attr, objects}.VersionedAttribute(attr.GetKind())
					if err != nil {
						r.fail("dispatch", "%s, %s: %v", where, h.GetName(), err)
						continue
					}
					result := matchers[h.GetName()][minor].Match(ctx, versionedAttr, nil, nil)
					results[minor] = tristate(result.Matches, result.Error)
				}
				if results[30] != results[36] {
					r.fail("conditions", "%s, %s: matchConditions %s on 1.30, %s on 1.36", where, h.GetName(), results[30], results[36])
				}
				got.Conditions = results[36]
			}
			// The dispatcher's own decision (ShouldCallHook: namespace and object predicates, rules,
			// matchConditions with the plugin's compiler and the webhook's failurePolicy).
			got.Called = p.shouldCall(ctx, h, attr, objects)
			if got.Called == "error" || got.Conditions == "error" {
				// An erring condition hands the write to the failurePolicy: refused under Fail, unjudged under Ignore.
				r.fail("conditions", "%s, %s: the matchConditions err (conditions %q, called %q)", where, h.GetName(), got.Conditions, got.Called)
			}
			if want := write.Model[h.GetName()]; want != got {
				r.fail("dispatch", "%s, %s: the API server's code: %+v; the JavaScript model: %+v", where, h.GetName(), got, want)
			}
		}
		// The whole admission chain's webhook plugins with hitless down: mutating, then validating.
		verdict, reason := "admitted", ""
		if err := p.mutating.Admit(ctx, attr, objects); err != nil {
			verdict, reason = "refused", err.Error()
		} else if err := p.validating.Validate(ctx, attr, objects); err != nil {
			verdict, reason = "refused", err.Error()
		}
		cancel()
		if verdict != write.WhileDown {
			r.fail("down", "%s: with hitless down the API server's plugins: %s %s; the JavaScript model: %s", where, verdict, reason, write.WhileDown)
		}
		if verdict != write.Intended {
			r.fail("down", "%s: with hitless down the API server's plugins: %s %s; intended: %s", where, verdict, reason, write.Intended)
		}
	}
}
