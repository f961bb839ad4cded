package input

import (
	"errors"
	"io"

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
	var out []*stages.Stage
	var skipped []stages.Skipped
	for {
		d, err := docs.Next()
		if errors.Is(err, io.EOF) {
			return out, skipped, nil
		}
		if err != nil {
			return nil, nil, err
		}
		s, sk, err := stages.ParseDocument(d.Data, name, d.Index)
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

// LoadStages is Stages of files (no standard input) with the default limit, without what
// was skipped: for tests and programs that name their stage files.
func LoadStages(paths []string) ([]*stages.Stage, error) {
	set, _, err := new(Reader).Stages(paths, 0)
	return set, err
}
