package trace

import "github.com/kwoksim/kwoksim/workloads/manifest"

// Names trace files share with manifests (see manifest/exported.go).
type (
	Source      = manifest.Source
	Object      = manifest.Object
	LoadError   = manifest.LoadError
	LoadOptions = manifest.LoadOptions
)

var utf8BOM = []byte("\ufeff")

func jsonType(j []byte) string                    { return manifest.JSONType(j) }
func pathError(path string, err error) *LoadError { return manifest.PathError(path, err) }
func tooLarge(what string, size, limit int) string {
	return manifest.TooLarge(what, size, limit)
}
func yamlError(err error, docLine int, doc []byte) (int, string) {
	return manifest.YAMLError(err, docLine, doc)
}

func expectedKinds(kinds map[string]bool) string { return manifest.ExpectedKinds(kinds) }
