// Command kwoksim-nodecost is kwoksim with the example out-of-tree scheduler plugin NodeCost
// (examples/plugins/nodecost) registered, as a plugin author builds their own: a main that
// passes app.Main its plugins, as kube-scheduler's app.NewSchedulerCommand is given them.
// Every kwoksim command works as in kwoksim; a --scheduler-config may enable NodeCost.
package main

import (
	"os"

	"github.com/kwoksim/kwoksim/cmd/kwoksim/app"
	"github.com/kwoksim/kwoksim/examples/plugins/nodecost"
)

func main() { os.Exit(app.Main(app.WithPlugin(nodecost.Name, nodecost.New))) }
