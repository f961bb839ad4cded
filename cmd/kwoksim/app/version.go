package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kwoksim/kwoksim/version"
)

func newVersionCommand() *cobra.Command {
	output := "text"
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print kwoksim's version and commit, and the Kubernetes and Go it was built with",
		Example: `  kwoksim version
  kwoksim version -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output must be text or json, not %q", output)}
			}
			if output == "json" {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(version.Get())
			}
			_, err := io.WriteString(c.OutOrStdout(), versionText(version.Get()))
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", output, "output format: text or json")
	return cmd
}

// versionText is what `kwoksim version` and `kwoksim --version` print.
func versionText(info version.Info) string {
	commit := info.Commit
	if commit == "" {
		commit = "unknown"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "kwoksim\t%s\n", info.Version)
	fmt.Fprintf(tw, "commit\t%s\n", commit)
	fmt.Fprintf(tw, "kubernetes\t%s\n", info.Kubernetes)
	fmt.Fprintf(tw, "go\t%s\n", info.Go)
	_ = tw.Flush()
	return b.String()
}

// setVersion gives root the --version flag, printing what `kwoksim version` prints.
func setVersion(root *cobra.Command) {
	info := version.Get()
	root.Version = info.Version
	// The template is text/template; the text goes in as a quoted string so that nothing in
	// it is taken for an action.
	root.SetVersionTemplate("{{" + strconv.Quote(versionText(info)) + "}}")
}
