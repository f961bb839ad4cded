package stages

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/apis/v1alpha1"
	"sigs.k8s.io/yaml"
)

// Stage is one decoded, compiled KWOK Stage. It is immutable after Parse and
// safe to share between concurrent simulations.
type Stage struct {
	Name     string
	APIGroup string // resourceRef.apiGroup as written, defaulted to "v1" as KWOK's CRD does
	Kind     string // resourceRef.kind

	source     string
	selector   *selector // nil: the stage never matches (KWOK drops it)
	weight     int64
	weightFrom *exprFrom
	delay      *delaySpec // nil: no delay
	steps      []stepSpec
	immediate  bool
	// typedCore: KWOK's pod and node controllers hand the lifecycle typed
	// *corev1.Pod/*corev1.Node, which makes strategic merge the default patch
	// type; every other kind goes through unstructured objects and JSON merge.
	typedCore bool
}

// ImmediateNextStage reports whether the next stage is matched right after
// this one's steps change the object, without waiting for a watch event.
// KWOK does so only when a patch actually changed the object.
func (s *Stage) ImmediateNextStage() bool { return s.immediate }

// Parse decodes every Stage document in data (multi-document YAML or JSON).
// Each document must be kind Stage, apiVersion kwok.x-k8s.io/v1alpha1; empty
// documents are skipped. Documents are decoded into KWOK's v1alpha1 types,
// defaulted as KWOK's CRD defaults them, converted to internalversion (which
// turns the deprecated `next` into steps) and compiled: a bad jq, CEL or
// template is an error here, not when the stage first runs. source names
// data in errors. Parse is for stages already in memory (the built-in set,
// tests); stage files are read, and cut into the documents ParseDocument
// decodes, by package workloads/input.
func Parse(data []byte, source string) ([]*Stage, error) {
	out, _, err := parseDocs(data, source)
	return out, err
}

// parseDocs is Parse that also returns the documents it skipped (see skippable).
func parseDocs(data []byte, source string) ([]*Stage, []Skipped, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	doc := 0
	return ParseAll(source, func() ([]byte, int, error) {
		doc++
		raw, err := r.Read()
		if err != nil && !errors.Is(err, io.EOF) {
			err = fmt.Errorf("%s: document %d: %w", source, doc, err)
		}
		return raw, doc, err
	})
}

// ParseAll decodes every document next hands out (its bytes and its 1-based number, then
// io.EOF; any other error ends the parse as it is) with ParseDocument: the stages in order,
// and the documents skipped.
func ParseAll(source string, next func() ([]byte, int, error)) ([]*Stage, []Skipped, error) {
	var out []*Stage
	var skipped []Skipped
	for {
		data, doc, err := next()
		if errors.Is(err, io.EOF) {
			return out, skipped, nil
		}
		if err != nil {
			return nil, nil, err
		}
		s, sk, err := ParseDocument(data, source, doc)
		switch {
		case err != nil:
			return nil, nil, err
		case s != nil:
			out = append(out, s)
		case sk != nil:
			skipped = append(skipped, *sk)
		}
	}
}

// ParseDocument decodes one document of a stage file, cut from it by the caller (the files
// themselves are read by package workloads/input, so that this package does no I/O): the
// Stage, as Parse decodes it; or, for a document of another kind that a stage file may hold
// (a StorageClass beside the volume stages, which KWOK's loader skips with a warning), what
// was skipped; or neither, for an empty document. source and doc (1-based) name the document
// in errors.
func ParseDocument(data []byte, source string, doc int) (*Stage, *Skipped, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
	}
	if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
	}
	if skippable(tm) {
		return nil, &Skipped{Source: source, Doc: doc, APIVersion: tm.APIVersion, Kind: tm.Kind}, nil
	}
	s, err := decodeStage(js, source, doc)
	if err != nil {
		return nil, nil, err
	}
	return s, nil, nil
}

func decodeStage(js []byte, source string, doc int) (*Stage, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
	}
	if want := v1alpha1.GroupVersion.String(); tm.Kind != v1alpha1.StageKind || tm.APIVersion != want {
		return nil, fmt.Errorf("%s: document %d: got apiVersion %q kind %q, want apiVersion %q kind %q",
			source, doc, tm.APIVersion, tm.Kind, want, v1alpha1.StageKind)
	}
	// Not strict: KWOK ignores unknown fields, and every file KWOK accepts
	// should be accepted here.
	var v v1alpha1.Stage
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, fmt.Errorf("%s: document %d: %w", source, doc, err)
	}
	if v.Name == "" {
		return nil, fmt.Errorf("%s: document %d: metadata.name: required", source, doc)
	}
	fromNext := len(v.Spec.Steps) == 0 && v.Spec.Next != nil
	// KWOK's file loader skips defaulting but its CRD applies the same
	// defaults (apiGroup "v1", statusSubresource "status"); apply them so a
	// stage means the same whichever way it reached KWOK.
	v1alpha1.SetObjectDefaults_Stage(&v)
	in, err := internalversion.ConvertToInternalStage(&v)
	if err != nil {
		return nil, &Error{Source: source, Stage: v.Name, Field: "spec", Err: err}
	}
	return compile(in, source, fromNext)
}

// compile turns a converted stage into its evaluable form.
func compile(in *internalversion.Stage, source string, fromNext bool) (*Stage, error) {
	spec := &in.Spec
	s := &Stage{
		Name:      in.Name,
		APIGroup:  spec.ResourceRef.APIGroup,
		Kind:      spec.ResourceRef.Kind,
		source:    source,
		weight:    int64(spec.Weight),
		immediate: spec.ImmediateNextStage,
	}
	s.typedCore = s.APIGroup == "v1" && (s.Kind == "Pod" || s.Kind == "Node")
	if s.Kind == "" {
		return nil, s.errorf("spec.resourceRef.kind", errors.New("required"))
	}
	if spec.Weight < 0 {
		return nil, s.errorf("spec.weight", fmt.Errorf("%d is negative (KWOK's CRD requires >= 0)", spec.Weight))
	}
	var err error
	if spec.Selector != nil {
		if s.selector, err = s.compileSelector(spec.Selector); err != nil {
			return nil, err
		}
	}
	if spec.WeightFrom != nil {
		if s.weightFrom, err = s.compileFrom("spec.weightFrom", spec.WeightFrom, weightCELTypes); err != nil {
			return nil, err
		}
	}
	if spec.Delay != nil {
		if s.delay, err = s.compileDelay(spec.Delay); err != nil {
			return nil, err
		}
	}
	if s.steps, err = s.compileSteps(spec.Steps, fromNext); err != nil {
		return nil, err
	}
	return s, nil
}
