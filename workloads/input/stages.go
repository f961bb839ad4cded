package input

import (
	"github.com/kwoksim/kwoksim/stages"
)

// Stages reads KWOK Stage files. Each path is a file, read whatever its extension, Stdin, or
// a directory contributing its StageFiles (see Expand). Stages come back in path order, then
// file order, then document order (the order KWOK matches them in), with the documents of
// other kinds that were skipped. maxDocumentBytes bounds one document (0:
// DefaultMaxDocumentBytes). The first error ends the reading: an *Error for a path or
// document that cannot be read, else the error of stages.ParseDocument.
func (r *Reader) Stages(paths []string, maxDocumentBytes int) ([]*stages.Stage, []stages.Skipped, error) {
	var out []*stages.Stage
	var skipped []stages.Skipped
	for _, p := range paths {
		files, err := Expand(p, StageFiles)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			set, sk, err := r.stageFile(f, maxDocumentBytes)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, set...)
			skipped = append(skipped, sk...)
		}
	}
	return out, skipped, nil
}

func (r *Reader) stageFile(path string, maxDocumentBytes int) ([]*stages.Stage, []stages.Skipped, error) {
	f, err := r.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	name := Name(path)
	docs := NewDocuments(f, name, maxDocumentBytes)
	return stages.ParseAll(name, func() ([]byte, int, error) {
		d, err := docs.Next()
		return d.Data, d.Index, err
	})
}

// LoadStages is Stages of files (no standard input) with the default limit, without what
// was skipped: for tests and programs that name their stage files.
func LoadStages(paths []string) ([]*stages.Stage, error) {
	set, _, err := new(Reader).Stages(paths, 0)
	return set, err
}
