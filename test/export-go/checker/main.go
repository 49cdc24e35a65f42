// The Go checker of `hitless export-policies` (issue 23, docs/decisions/0019): the API server's own code
// (k8s.io/apiserver 0.36, cel.dev/cel-go, sigs.k8s.io/yaml, as Debian packages them) reads, validates,
// compiles and evaluates what hitless writes, and compares the verdicts and patched objects with the
// webhook's. Its input is the JSON test/export-go/input.ts writes:
//
//   - documents: YAML hitless writes (the export, `fix --write` output, reports, docs, config), each with
//     the JSON a YAML 1.2 reader makes of it; read here as kubectl reads YAML (sigs.k8s.io/yaml, YAML 1.1),
//     they must mean the same.
//   - exports: export-policies output per Kubernetes version, decoded strictly into the
//     admissionregistration types, every expression compiled with that version's environment, and for
//     some of them requests with the webhook's verdicts and patched objects to evaluate.
//   - webhooks: the k8s-1.30 overlays as `kubectl kustomize` renders them, with writes to dispatch through
//     the API server's webhook admission plugins while hitless is down (webhooks.go).
//
// It prints one line per failure and a JSON summary (counts and CEL costs) as its last line; exit 1 on
// any failure.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"k8s.io/klog/v2"
)

type input struct {
	Documents []document      `json:"documents"`
	Exports   []exportInput   `json:"exports"`
	Webhooks  []webhooksInput `json:"webhooks"`
}

type document struct {
	Name string            `json:"name"`
	YAML string            `json:"yaml"`
	JSON []json.RawMessage `json:"json"`
}

type exportInput struct {
	Name     string         `json:"name"`
	Version  string         `json:"version"`
	YAML     string         `json:"yaml"`
	Orders   [][]string     `json:"orders"`
	Requests []requestInput `json:"requests"`
}

type userInfo struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

type finding struct {
	Container string `json:"container"`
	Message   string `json:"message"`
	Because   string `json:"because"`
	Fix       string `json:"fix"`
}

type verdict struct {
	Outcome  string    `json:"outcome"`
	Findings []finding `json:"findings"`
}

type requestInput struct {
	Name      string         `json:"name"`
	Operation string         `json:"operation"`
	Object    map[string]any `json:"object"`
	OldObject map[string]any `json:"oldObject"`
	// SubResource: a write through namespaces/status or /finalize (decision 0042).
	SubResource string             `json:"subResource"`
	Namespace   map[string]any     `json:"namespace"`
	UserInfo    userInfo           `json:"userInfo"`
	Verdicts    map[string]verdict `json:"verdicts"`
	Patched     map[string]any     `json:"patched"`
}

// report collects failures (printing the first ones of each kind) and counts.
type report struct {
	Failures    int              `json:"failures"`
	Documents   int              `json:"documents"`
	Objects     int              `json:"objects"`
	Expressions int              `json:"expressions"`
	Requests    int              `json:"requests"`
	Verdicts    int              `json:"verdicts"`
	Mutations   int              `json:"mutations"`
	Writes      int              `json:"writes"`
	Dispatches  int              `json:"dispatches"`
	Costs       map[string]costs `json:"costs"`
	printed     map[string]int
}

func (r *report) fail(kind, format string, args ...any) {
	r.Failures++
	if r.printed[kind] < 20 {
		fmt.Printf("FAIL %s: %s\n", kind, fmt.Sprintf(format, args...))
	}
	r.printed[kind]++
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: checker INPUT.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, "input:", err)
		os.Exit(2)
	}
	// The webhook plugins log every failed call (hitless is down there on purpose): the report says what counts.
	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	for name, value := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL", "legacy_stderr_threshold_behavior": "false"} {
		_ = flags.Set(name, value)
	}
	klog.SetOutput(io.Discard)
	r := &report{printed: map[string]int{}, Costs: map[string]costs{}}
	for _, d := range in.Documents {
		checkYAML11(r, d)
	}
	for _, e := range in.Exports {
		checkExport(r, e)
	}
	for _, w := range in.Webhooks {
		checkWebhooks(r, w)
	}
	for kind, n := range r.printed {
		if n > 20 {
			fmt.Printf("FAIL %s: ... %d more\n", kind, n-20)
		}
	}
	summary, _ := json.Marshal(r)
	fmt.Println(string(summary))
	if r.Failures > 0 {
		os.Exit(1)
	}
}
