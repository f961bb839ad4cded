package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/version"
)

// newVersionCommand is `kwoksim version`; a build with out-of-tree scheduler plugins lists
// them, sorted, so that what a configuration may enable can be asked of the binary.
func newVersionCommand(plugins frameworkruntime.Registry) *cobra.Command {
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
				return enc.Encode(versionJSON{Info: version.Get(), Plugins: sim.PluginNames(plugins)})
			}
			_, err := io.WriteString(c.OutOrStdout(), versionText(version.Get(), sim.PluginNames(plugins)))
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", output, "output format: text or json")
	return cmd
}

// versionJSON is what `kwoksim version -o json` prints: version.Info, and the out-of-tree
// scheduler plugins of a build that has any.
type versionJSON struct {
	version.Info
	Plugins []string `json:"plugins,omitempty"`
}

// versionText is what `kwoksim version` and `kwoksim --version` print; plugins are the
// build's out-of-tree scheduler plugins, a line of their own when there are any.
func versionText(info version.Info, plugins []string) string {
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
	if len(plugins) > 0 {
		fmt.Fprintf(tw, "plugins\t%s\n", strings.Join(plugins, ", "))
	}
	_ = tw.Flush()
	return b.String()
}

// setVersion gives root the --version flag, printing what `kwoksim version` prints.
func setVersion(root *cobra.Command, plugins frameworkruntime.Registry) {
	info := version.Get()
	root.Version = info.Version
	// The template is text/template; the text goes in as a quoted string so that nothing in
	// it is taken for an action.
	root.SetVersionTemplate("{{" + strconv.Quote(versionText(info, sim.PluginNames(plugins))) + "}}")
}
