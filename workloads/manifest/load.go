package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// Source says where an object came from, for error messages.
type Source struct {
	File string // path as given (or joined with the directory it was found in)
	Doc  int    // 1-based index of the YAML document in the file
	Line int    // 1-based line in the file where that document starts
}

// String renders the source as "file:line (document n)". The document number
// is left out for the first document: the line alone already identifies it,
// and a single-document file then reads as a plain "file:1".
func (s Source) String() string {
	var b strings.Builder
	b.WriteString(s.File)
	if s.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(s.Line))
	}
	if s.Doc > 1 {
		fmt.Fprintf(&b, " (document %d)", s.Doc)
	}
	return b.String()
}

// Object is one decoded manifest.
type Object struct {
	Obj    runtime.Object // typed, versioned object from the client-go scheme, with apiVersion and kind set
	Source Source
}

// LoadOptions restricts what Load accepts.
type LoadOptions struct {
	// Kinds, when non-nil, is the set of kinds accepted (e.g. {"Node"} for
	// --nodes); any other kind is an error naming the file, line, the kind
	// found and the kinds expected. List wrappers are not checked, their
	// items are.
	Kinds map[string]bool
	// MaxDocumentBytes bounds one YAML or JSON document (0: DefaultMaxDocumentBytes), so a
	// runaway file fails with its name and line instead of exhausting memory in the decoder;
	// it is applied while reading (see input.Documents).
	MaxDocumentBytes int
	// Input opens the paths; nil refuses standard input ("-"). A command passes the same
	// Reader to every load, so that standard input is read once.
	Input *input.Reader
	// Served, when non-nil, makes Load keep what the simulator stores and skip the rest
	// instead of failing on it (see LoadMixed): it reports whether the simulator serves a
	// decoded object's kind. Kinds is still applied to what is kept.
	Served func(runtime.Object) bool
}

// DefaultMaxDocumentBytes is the default bound on one manifest document, one YAML trace and
// one JSON Lines trace line: generous (the largest real objects are a few MiB), far below
// what would exhaust memory once decoded.
const DefaultMaxDocumentBytes = input.DefaultMaxDocumentBytes

// MaxDocumentBytesFlag is the command-line flag that raises the bound; limit errors name it.
const MaxDocumentBytesFlag = input.MaxDocumentBytesFlag

// DocumentLimit is the bound on one document these options set.
func (o LoadOptions) DocumentLimit() int {
	if o.MaxDocumentBytes > 0 {
		return o.MaxDocumentBytes
	}
	return DefaultMaxDocumentBytes
}

func (o LoadOptions) input() *input.Reader {
	if o.Input != nil {
		return o.Input
	}
	return new(input.Reader)
}

// LoadError is a problem with one input path or document: the File (path as given, joined
// with its directory, or input.StdinName), the 1-based Line and Doc where there is one, and
// the underlying Err, so that callers can still test for e.g. fs.ErrNotExist with errors.Is.
// It is the input package's error, so that every input reports alike.
type LoadError = input.Error

// decoder turns one JSON document into the typed object of its
// apiVersion/kind. It is strict, like kubectl's default --validate=strict,
// so a misspelt field is reported instead of silently dropped; it neither
// converts nor defaults, because the simulator applies the apiserver's
// defaulting and validation itself and must see what the user wrote.
var decoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	kjson.SerializerOptions{Strict: true})

// Load reads every path (a file, input.Stdin, or a directory whose regular
// *.yaml, *.yml and *.json files are read in lexical order, not recursively,
// skipping hidden files and following symbolic links; see input.Expand) and
// decodes every document. Multi-document YAML (---) and
// kind: List (v1 List, and any *List like PodList) are expanded into their
// items; each item keeps the Source of its document. Empty documents (only
// comments/whitespace) are skipped. Objects are returned in input order
// (paths in given order, files in lexical order, documents and items in
// order).
//
// Load keeps going after a bad document so that one run reports every
// mistake; the error is then a single *LoadError, or an errors.Join of them
// in input order, and no objects are returned.
func Load(paths []string, opts LoadOptions) ([]Object, error) {
	l := &loader{opts: opts, in: opts.input()}
	l.loadPaths(paths)
	return l.result()
}

// loadPaths reads every file of every path, recording a path that cannot be expanded.
func (l *loader) loadPaths(paths []string) {
	for _, p := range paths {
		files, err := manifestFiles(p)
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		for _, f := range files {
			l.loadFile(f)
		}
	}
}

// result is what Load returns: every object, or every error.
func (l *loader) result() ([]Object, error) {
	switch len(l.errs) {
	case 0:
		return l.objs, nil
	case 1:
		return nil, l.errs[0]
	default:
		return nil, errors.Join(l.errs...)
	}
}

// manifestFiles expands one path into the files to read.
func manifestFiles(path string) ([]string, error) {
	files, err := input.Expand(path, input.Manifests)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &LoadError{File: path, Msg: "no .yaml, .yml or .json files in directory"}
	}
	return files, nil
}

type loader struct {
	opts    LoadOptions
	in      *input.Reader
	objs    []Object
	skipped []Skipped
	errs    []error
}

// fail records a problem with a document; where prefixes the message with
// the item path inside a List.
func (l *loader) fail(src Source, line int, where, msg string) {
	l.errs = append(l.errs, &LoadError{File: src.File, Line: line, Doc: src.Doc, Msg: where + msg})
}

func (l *loader) loadFile(path string) {
	f, err := l.in.Open(path)
	if err != nil {
		l.errs = append(l.errs, err)
		return
	}
	defer f.Close()
	l.loadReader(input.Name(path), f)
}

// loadReader decodes the documents of one file as they are read; name names it in errors.
func (l *loader) loadReader(name string, r io.Reader) {
	mark := len(l.errs)
	docs := input.NewDocuments(r, name, l.opts.DocumentLimit())
	for {
		d, err := docs.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// A document over the limit is one bad document among others. A file that cannot
			// be cut into documents (content after a separator, a failed read) has that
			// error alone, as when files were split whole before decoding.
			if !errors.Is(err, input.ErrTooLarge) {
				l.errs = l.errs[:mark]
			}
			l.errs = append(l.errs, err)
			continue
		}
		l.loadDocument(Source{File: name, Doc: d.Index, Line: d.Line}, d.Data)
	}
}

// LoadBytes is Load for the contents of one file, named path in errors.
func LoadBytes(path string, data []byte, opts LoadOptions) ([]Object, error) {
	l := &loader{opts: opts}
	l.loadReader(path, bytes.NewReader(data))
	return l.result()
}

func (l *loader) loadDocument(src Source, data []byte) {
	// Strict conversion rejects duplicate keys, which the JSON decoder can
	// no longer see once the YAML has been turned into a JSON object.
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		line, msg := yamlError(err, src.Line, data)
		l.fail(src, line, "", msg)
		return
	}
	if bytes.Equal(j, []byte("null")) {
		return // only comments and whitespace (or an explicit null)
	}
	l.decode(src, j, "")
}

var (
	// yamlSyntaxRE matches the parser's "yaml: line N: problem".
	yamlSyntaxRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	// yamlEntryRE matches each "  line N: problem" of "yaml: unmarshal
	// errors:", which strict conversion uses for duplicate keys.
	yamlEntryRE = regexp.MustCompile(`(?m)^\s*line (\d+): (.*)$`)
)

// yamlError turns a sigs.k8s.io/yaml error into a file line and message.
// The parser counts lines from the start of the document it was given, which
// starts at docLine in the file.
func yamlError(err error, docLine int, doc []byte) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	// At the end of a document that does not end in a newline the parser names
	// the line after the last (found by fuzzing: "0: \n0"); point at the last.
	last := docLine + bytes.Count(doc, []byte("\n"))
	abs := func(n string) int {
		i, _ := strconv.Atoi(n)
		return min(docLine+i-1, last)
	}
	if m := yamlSyntaxRE.FindStringSubmatch(msg); m != nil {
		return abs(m[1]), "yaml: " + m[2]
	}
	if strings.HasPrefix(msg, "yaml: unmarshal errors:") {
		if ms := yamlEntryRE.FindAllStringSubmatch(msg, -1); ms != nil {
			parts := []string{ms[0][2]}
			for _, m := range ms[1:] {
				parts = append(parts, fmt.Sprintf("line %d: %s", abs(m[1]), m[2]))
			}
			return abs(ms[0][1]), "strict decoding error: yaml: " + strings.Join(parts, "; ")
		}
	}
	// Errors without a position (e.g. an unknown alias) point at the
	// document.
	return docLine, msg
}

// decode turns one JSON object (a document, or an item of a List) into
// typed objects.
func (l *loader) decode(src Source, j []byte, where string) {
	j = bytes.TrimSpace(j)
	if len(j) == 0 || j[0] != '{' {
		l.fail(src, src.Line, where, "expected a mapping with apiVersion and kind, found "+jsonType(j))
		return
	}
	// A map, not a struct, because encoding/json matches struct fields
	// case-insensitively and "Kind" is not "kind" to the apiserver.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(j, &fields); err != nil {
		l.fail(src, src.Line, where, err.Error())
		return
	}
	apiVersion, err := stringField(fields, "apiVersion")
	if err != nil {
		l.fail(src, src.Line, where, err.Error())
		return
	}
	kind, err := stringField(fields, "kind")
	if err != nil {
		l.fail(src, src.Line, where, err.Error())
		return
	}
	switch {
	case apiVersion == "" && kind == "":
		l.fail(src, src.Line, where, "missing apiVersion and kind")
		return
	case kind == "":
		l.fail(src, src.Line, where, "missing kind")
		return
	case apiVersion == "":
		l.fail(src, src.Line, where, "missing apiVersion")
		return
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		l.fail(src, src.Line, where, fmt.Sprintf("invalid apiVersion %q: %v", apiVersion, err))
		return
	}
	gvk := gv.WithKind(kind)

	if l.opts.Served != nil && apiVersion == autoscaling.APIVersion && kind == autoscaling.Kind {
		l.decodeNodePool(src, j, where)
		return
	}
	if proto, err := scheme.Scheme.New(gvk); err == nil && meta.IsListType(proto) {
		l.decodeList(src, fields, where, gvk)
		return
	}
	if l.opts.Served != nil {
		if reason := skipUndecoded(gvk, fields); reason != "" {
			l.skipped = append(l.skipped, Skipped{APIVersion: apiVersion, Kind: kind, Reason: reason, Source: src})
			return
		}
	}
	// A mixed load checks Kinds once the object is known to be served (below).
	if l.opts.Kinds != nil && !l.opts.Kinds[kind] && l.opts.Served == nil {
		l.fail(src, src.Line, where, fmt.Sprintf("kind %q is not accepted here; expected %s", kind, expectedKinds(l.opts.Kinds)))
		return
	}
	if !scheme.Scheme.Recognizes(gvk) {
		l.fail(src, src.Line, where, unknownKind(gvk))
		return
	}
	obj, _, err := decoder.Decode(j, nil, nil)
	if err != nil {
		// A strict decoding error already reads "strict decoding error:
		// unknown field \"spec.replica\"".
		l.fail(src, src.Line, where, err.Error())
		return
	}
	// The decoder keeps the TypeMeta it read; set it explicitly so every
	// object prints with apiVersion and kind whatever path produced it.
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	if l.opts.Served != nil && !l.opts.Served(obj) {
		l.skipped = append(l.skipped, Skipped{APIVersion: apiVersion, Kind: kind, Reason: ReasonNotSimulated, Source: src})
		return
	}
	if l.opts.Served != nil && l.opts.Kinds != nil && !l.opts.Kinds[kind] {
		l.fail(src, src.Line, where, fmt.Sprintf("kind %q is not accepted here; expected %s", kind, expectedKinds(l.opts.Kinds)))
		return
	}
	if msg := checkUsageAnnotations(obj); msg != "" {
		l.fail(src, src.Line, where, msg)
		return
	}
	if msg := checkDevicesAnnotation(obj); msg != "" {
		l.fail(src, src.Line, where, msg)
		return
	}
	l.objs = append(l.objs, Object{Obj: obj, Source: src})
}

// decodeList expands a v1 List or typed list (PodList, ...) into its items.
// The items are decoded one by one rather than through the list type so that
// v1 List items (raw, untyped in corev1.List) get the same strict decoding
// as top-level documents and each error can name its item.
func (l *loader) decodeList(src Source, fields map[string]json.RawMessage, where string, gvk schema.GroupVersionKind) {
	var items []json.RawMessage
	if raw, ok := fields["items"]; ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			l.fail(src, src.Line, where, "items must be a list")
			return
		}
	}
	// Check the wrapper's own fields (metadata, misspelt "item", ...) with
	// the same strictness, without its items.
	delete(fields, "items")
	wrapper, err := json.Marshal(fields)
	if err == nil {
		_, _, err = decoder.Decode(wrapper, nil, nil)
	}
	if err != nil {
		l.fail(src, src.Line, where, err.Error())
		return
	}

	// Items of a typed list usually omit apiVersion and kind (that is how
	// the apiserver returns them); they are implied by the list. A v1 List
	// holds arbitrary objects, so its items must say what they are.
	var itemAPIVersion, itemKind string
	if gvk.Kind != "List" {
		itemAPIVersion, itemKind = gvk.GroupVersion().String(), strings.TrimSuffix(gvk.Kind, "List")
	}
	for i, item := range items {
		if itemKind != "" {
			item = withTypeMeta(item, itemAPIVersion, itemKind)
		}
		l.decode(src, item, fmt.Sprintf("%sitems[%d]: ", where, i))
	}
}

// withTypeMeta fills in apiVersion and kind of an object that lacks them.
// An item that is not an object is returned unchanged for decode to report.
func withTypeMeta(item json.RawMessage, apiVersion, kind string) json.RawMessage {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
		return item
	}
	if _, ok := fields["apiVersion"]; !ok {
		fields["apiVersion"], _ = json.Marshal(apiVersion)
	}
	if _, ok := fields["kind"]; !ok {
		fields["kind"], _ = json.Marshal(kind)
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return item
	}
	return out
}

// stringField returns a string field of an object, "" when it is absent
// or null.
func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s must be a string, found %s", name, jsonType(raw))
	}
	return s, nil
}

// jsonType names the JSON type of a value for messages.
func jsonType(j []byte) string {
	if len(j) == 0 {
		return "nothing"
	}
	switch j[0] {
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func expectedKinds(kinds map[string]bool) string {
	var names []string
	for k, ok := range kinds {
		if ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return "no kinds"
	case 1:
		return names[0]
	default:
		return "one of " + strings.Join(names, ", ")
	}
}

// unknownKind explains a kind the scheme does not know, pointing at the
// apiVersions that do have it (or a kind differing only in case), since the
// usual mistake is an old or misspelt apiVersion.
func unknownKind(gvk schema.GroupVersionKind) string {
	msg := fmt.Sprintf("unknown kind %q in apiVersion %q", gvk.Kind, gvk.GroupVersion().String())
	var known []string
	for _, k := range slices.SortedFunc(maps.Keys(scheme.Scheme.AllKnownTypes()), compareGVK) {
		if k.Version != runtime.APIVersionInternal && strings.EqualFold(k.Kind, gvk.Kind) {
			known = append(known, k.GroupVersion().String()+" "+k.Kind)
		}
	}
	const maxHints = 5
	if len(known) > maxHints {
		known = append(known[:maxHints], "...")
	}
	if len(known) > 0 {
		msg += " (known: " + strings.Join(known, ", ") + ")"
	}
	return msg
}

func compareGVK(a, b schema.GroupVersionKind) int {
	return strings.Compare(a.Group+"/"+a.Version+"/"+a.Kind, b.Group+"/"+b.Version+"/"+b.Kind)
}
