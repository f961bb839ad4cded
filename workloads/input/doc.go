// Package input reads kwoksim's inputs: it expands paths into files (a directory
// contributes its regular files of the caller's extensions, in lexical order, not
// recursively, hidden files skipped, symbolic links followed), opens them ("-" is standard
// input, read once), and cuts their contents into YAML documents or JSON Lines lines with
// exact 1-based line numbers, refusing a document or line over the size limit while
// reading it, after at most the limit and one buffer, so that an endless or huge input
// fails with its name and line instead of exhausting memory.
//
// Every manifest (--nodes, --workload, --node-template), stage file (--stages) and trace
// (--trace) goes through it, so that all of them expand directories, follow links and bound
// their documents the same way. What the documents mean is the callers' business
// (workloads decodes manifests and traces, stages decodes Stage documents); Stages is the
// one loader that lives here, so that the stages package does no I/O.
package input
