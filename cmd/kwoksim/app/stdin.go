package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kwoksim/kwoksim/workloads/input"
)

// flagPaths are the paths one flag (or argument) was given.
type flagPaths struct {
	flag  string
	paths []string
}

// checkStdin accepts standard input ("-") for one input, once: it is a stream, and what the
// first reader consumed is gone for the next. Nor can a trace be standard input: it is read
// twice, checked whole before the run and replayed during it. Refusing is simpler and
// clearer than spooling the stream to memory or disk, which would defeat streaming a long
// JSON Lines trace; a file, or a process substitution such as <(cmd), does the job.
func checkStdin(inputs ...flagPaths) error {
	var users []string
	for _, in := range inputs {
		for _, p := range in.paths {
			if p != input.Stdin {
				continue
			}
			if in.flag == "--trace" {
				return usageError{errors.New("--trace -: a trace cannot be read from standard input: it is read twice, " +
					"checked whole before the run and replayed during it; give a file (a .jsonl trace is streamed)")}
			}
			users = append(users, in.flag)
		}
	}
	if len(users) > 1 {
		return usageError{fmt.Errorf("standard input (-) is given %d times (%s) but can be read only once; give the other inputs as files",
			len(users), strings.Join(users, ", "))}
	}
	return nil
}

// refuseStdin refuses standard input for a command whose runs each read their inputs again.
func refuseStdin(command string, inputs ...flagPaths) error {
	for _, in := range inputs {
		for _, p := range in.paths {
			if p == input.Stdin {
				return usageError{fmt.Errorf("%s -: standard input cannot be an input of %s, whose runs each read their inputs; give a file", in.flag, command)}
			}
		}
	}
	return nil
}
