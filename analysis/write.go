package analysis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"sigs.k8s.io/yaml"
)

// WriteJSON writes the report as indented JSON. Map keys are sorted by encoding/json, so the
// bytes depend only on the report.
func WriteJSON(w io.Writer, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteFileAtomic writes a file through a temporary file in the same directory and a rename,
// so a reader never sees a half-written report and a failed run leaves no file behind.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	// CreateTemp makes the file private (0600); a report, a plot or a page is for others to
	// read too, as a file os.WriteFile had written.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteYAML writes the report as YAML, converted from its JSON form by sigs.k8s.io/yaml so that
// field names and values are the JSON report's; keys come out sorted, as kubectl prints
// objects. The top-level arrays are converted one item at a time: the bytes are the same as
// converting the whole report at once (a test checks it), but the YAML emitter keeps every
// event of a document until its end, which on a report of 10,000 pods costs half a gigabyte.
func WriteYAML(w io.Writer, r *Report) error {
	j, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil {
		return err
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		var items []json.RawMessage
		if v := top[k]; v[0] == '[' && json.Unmarshal(v, &items) == nil && len(items) > 0 {
			// A block sequence under a key is written "key:" then "- item" lines at the
			// key's indentation, which is how a one-item list converts on its own.
			fmt.Fprintf(bw, "%s:\n", k)
			for _, it := range items {
				if err := writeYAMLOf(bw, append(append([]byte{'['}, it...), ']')); err != nil {
					return err
				}
			}
			continue
		}
		one, err := json.Marshal(map[string]json.RawMessage{k: top[k]})
		if err != nil {
			return err
		}
		if err := writeYAMLOf(bw, one); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func writeYAMLOf(w io.Writer, j []byte) error {
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}
