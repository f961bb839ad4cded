package workloads

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
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
	// runaway file fails with its name and line instead of exhausting memory in the decoder.
	MaxDocumentBytes int
}

// DefaultMaxDocumentBytes is the default bound on one manifest document, one YAML trace and
// one JSON Lines trace line: generous (the largest real objects are a few MiB), far below
// what would exhaust memory once decoded.
const DefaultMaxDocumentBytes = 16 << 20

// MaxDocumentBytesFlag is the command-line flag that raises the bound; limit errors name it.
const MaxDocumentBytesFlag = "--max-document-bytes"

func (o LoadOptions) maxDocumentBytes() int {
	if o.MaxDocumentBytes > 0 {
		return o.MaxDocumentBytes
	}
	return DefaultMaxDocumentBytes
}

// tooLarge is the message for a document or line over the limit.
func tooLarge(what string, size, limit int) string {
	return fmt.Sprintf("%s is %d bytes, more than the limit of %d bytes (raise it with %s)", what, size, limit, MaxDocumentBytesFlag)
}

// LoadError is a problem with one input path or document.
type LoadError struct {
	File string // path as given, or joined with its directory
	Line int    // 1-based line in the file, 0 when the problem is with the file as a whole
	Doc  int    // 1-based document index, 0 when the problem is not inside a document
	Msg  string
	// Err is the underlying error, if any, so callers can still test for
	// e.g. fs.ErrNotExist with errors.Is.
	Err error
}

func (e *LoadError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*LoadError) BadInput() {}

func (e *LoadError) Unwrap() error { return e.Err }

// manifestExts are the extensions read from directories, the same set
// kubectl's -f <dir> reads.
var manifestExts = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// decoder turns one JSON document into the typed object of its
// apiVersion/kind. It is strict, like kubectl's default --validate=strict,
// so a misspelt field is reported instead of silently dropped; it neither
// converts nor defaults, because the simulator applies the apiserver's
// defaulting and validation itself and must see what the user wrote.
var decoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	kjson.SerializerOptions{Strict: true})

// Load reads every path (a file, or a directory whose regular *.yaml, *.yml
// and *.json files are read in lexical order, not recursively, skipping
// hidden files) and decodes every document. Multi-document YAML (---) and
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
	l := &loader{opts: opts}
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
	return l.result()
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
	info, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if !info.IsDir() {
		// A file named explicitly is read whatever its extension: the user
		// asked for it.
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, pathError(path, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !manifestExts[filepath.Ext(name)] {
			continue
		}
		full := filepath.Join(path, name)
		// Stat rather than e.Type() so that a symlink to a manifest counts
		// like the manifest itself, as with kubectl.
		fi, err := os.Stat(full)
		if err != nil {
			return nil, pathError(full, err)
		}
		if fi.Mode().IsRegular() {
			files = append(files, full)
		}
	}
	if len(files) == 0 {
		return nil, &LoadError{File: path, Msg: "no .yaml, .yml or .json files in directory"}
	}
	return files, nil
}

// pathError reports an os error against the path. The *fs.PathError text
// already contains the path, so only its cause goes in Msg to avoid saying
// the path twice.
func pathError(path string, err error) *LoadError {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return &LoadError{File: path, Msg: msg, Err: err}
}

type loader struct {
	opts LoadOptions
	objs []Object
	errs []error
}

// fail records a problem with a document; where prefixes the message with
// the item path inside a List.
func (l *loader) fail(src Source, line int, where, msg string) {
	l.errs = append(l.errs, &LoadError{File: src.File, Line: line, Doc: src.Doc, Msg: where + msg})
}

// utf8BOM is dropped from the start of a file: editors on Windows add it and
// it would otherwise stick to the first key.
var utf8BOM = []byte("\ufeff")

func (l *loader) loadFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		l.errs = append(l.errs, pathError(path, err))
		return
	}
	l.loadData(path, data)
}

// loadData decodes the contents of one file; path names it in errors.
func (l *loader) loadData(path string, data []byte) {
	docs, lerr := splitDocuments(path, bytes.TrimPrefix(data, utf8BOM))
	if lerr != nil {
		l.errs = append(l.errs, lerr)
		return
	}
	limit := l.opts.maxDocumentBytes()
	for _, d := range docs {
		src := Source{File: path, Doc: d.index, Line: d.line}
		if len(d.data) > limit {
			l.fail(src, d.line, "", tooLarge(fmt.Sprintf("document %d", d.index), len(d.data), limit))
			continue
		}
		l.loadDocument(src, d.data)
	}
}

// loadBytes is Load for the contents of one file, named path in errors.
func loadBytes(path string, data []byte, opts LoadOptions) ([]Object, error) {
	l := &loader{opts: opts}
	l.loadData(path, data)
	return l.result()
}

// document is one YAML document of a file, with the position needed to turn
// parser line numbers (relative to data) into file line numbers.
type document struct {
	index int // 1-based
	line  int // 1-based line of data's first byte in the file
	data  []byte
}

// splitDocuments cuts a file at its "---" lines. It does the splitting
// itself instead of using apimachinery's YAMLReader because that reader
// merges consecutive separators and does not say how many lines it
// consumed, and error lines must be exact. Separators follow the same rule
// as kubectl's reader: "---" at the start of a line, followed only by
// whitespace or a comment.
func splitDocuments(file string, data []byte) ([]document, *LoadError) {
	var docs []document
	start, startLine := 0, 1
	explicit := false // the current chunk was opened by a separator
	index := 0
	flush := func(end int) {
		chunk := data[start:end]
		// As in YAML itself, text before the first "---" is a document only
		// if it has content (a header comment is not one), while every "---"
		// opens a document, possibly an empty one. This keeps document
		// numbers the ones a reader counts.
		if explicit || !blank(chunk) {
			index++
			docs = append(docs, document{index: index, line: startLine, data: chunk})
		}
	}
	line := 1
	for off := 0; off < len(data); line++ {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		if sep, rest := separator(data[off:next]); sep {
			flush(off)
			if rest != "" {
				return nil, &LoadError{File: file, Line: line, Doc: index + 1,
					Msg: fmt.Sprintf("content %q after the document separator \"---\" is not supported; start the document on the next line", rest)}
			}
			start, startLine, explicit = next, line+1, true
		}
		off = next
	}
	flush(len(data))
	return docs, nil
}

// separator reports whether a line is a document separator and returns
// anything other than a comment that follows the "---" on it.
func separator(line []byte) (bool, string) {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("---"))
	if !ok {
		return false, ""
	}
	// "----" or "---x" is an ordinary scalar, not a separator.
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
		return false, ""
	}
	rest = bytes.TrimSpace(rest)
	if len(rest) == 0 || rest[0] == '#' {
		return true, ""
	}
	return true, string(rest)
}

// blank reports whether text holds only whitespace and comments.
func blank(text []byte) bool {
	for l := range bytes.Lines(text) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
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

	if proto, err := scheme.Scheme.New(gvk); err == nil && meta.IsListType(proto) {
		l.decodeList(src, fields, where, gvk)
		return
	}
	if l.opts.Kinds != nil && !l.opts.Kinds[kind] {
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
