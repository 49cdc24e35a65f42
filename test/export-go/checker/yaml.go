package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// splitDocuments splits a YAML stream as kubectl does (k8s.io/apimachinery's YAMLReader) and converts
// each document to JSON with sigs.k8s.io/yaml (YAML 1.1, as kubectl and Helm read it). Documents of
// only comments are left out.
func splitDocuments(text string) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	var out [][]byte
	for {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		converted, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(bytes.TrimSpace(converted), []byte("null")) {
			continue
		}
		out = append(out, converted)
	}
}

// firstDifference names the first path where a and b (decoded JSON) differ.
func firstDifference(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %s vs %s", path, show(a), show(b))
		}
		for key, item := range av {
			other, present := bv[key]
			if !present {
				return fmt.Sprintf("%s.%s: only in the YAML 1.1 reading (%s)", path, key, show(item))
			}
			if diff := firstDifference(path+"."+key, item, other); diff != "" {
				return diff
			}
		}
		for key := range bv {
			if _, present := av[key]; !present {
				return fmt.Sprintf("%s.%s: missing from the YAML 1.1 reading", path, key)
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return fmt.Sprintf("%s: %s vs %s", path, show(a), show(b))
		}
		for i := range av {
			if diff := firstDifference(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); diff != "" {
				return diff
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: YAML 1.1 reads %s, YAML 1.2 %s", path, show(a), show(b))
		}
		return ""
	}
}

func show(v any) string {
	text, _ := json.Marshal(v)
	if len(text) > 80 {
		return string(text[:80]) + "..."
	}
	return string(text)
}

// checkYAML11: the document means to Go's YAML 1.1 what it means to the YAML 1.2 reader that wrote it.
func checkYAML11(r *report, d document) {
	r.Documents++
	docs, err := splitDocuments(d.YAML)
	if err != nil {
		r.fail("yaml", "%s: sigs.k8s.io/yaml cannot read it: %v", d.Name, err)
		return
	}
	if len(docs) != len(d.JSON) {
		r.fail("yaml", "%s: %d documents for Go, %d for the YAML 1.2 reader", d.Name, len(docs), len(d.JSON))
		return
	}
	for i := range docs {
		var ours, theirs any
		if err := json.Unmarshal(docs[i], &ours); err != nil {
			r.fail("yaml", "%s[%d]: %v", d.Name, i, err)
			continue
		}
		if err := json.Unmarshal(d.JSON[i], &theirs); err != nil {
			r.fail("yaml", "%s[%d]: %v", d.Name, i, err)
			continue
		}
		if diff := firstDifference("$", ours, theirs); diff != "" {
			r.fail("yaml", "%s, document %d: %s", d.Name, i, diff)
		}
	}
}
