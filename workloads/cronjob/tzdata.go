package cronjob

// The time zone database embedded in the binary, as kube-controller-manager and kube-apiserver
// embed it "for CronJob Time Zone support" (cmd/kube-controller-manager/controller-manager.go):
// a CronJob's spec.timeZone then resolves on a host without /usr/share/zoneinfo, offline.
// time.LoadLocation still prefers the host's database when there is one, as upstream does.
import _ "time/tzdata"
