package stages

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const (
	// maxSequence caps the lists sprig's until/untilStep/seq build before
	// anything is written, which the output cap would not catch.
	maxSequence = 100_000
	// kwokVersion is what KWOK's Version prints in a release build (the git
	// tag; an unstamped source build prints "0.8.0").
	kwokVersion = "v0.8.0"
)

// removedSprig lists the sprig functions kwoksim drops because they read the
// process environment, files, the network, the wall clock or the local time
// zone, or draw from global or crypto randomness: any of them would make a run
// depend on the machine or the moment. A template that uses one fails to load.
var removedSprig = []string{
	// environment
	"env", "expandenv",
	// network (DNS)
	"getHostByName",
	// wall clock, or the local zone / tzdata files
	"ago", "date", "dateInZone", "date_in_zone", "durationRound", "htmlDate",
	"htmlDateInZone", "mustToDate", "toDate",
	// global math/rand or crypto/rand (and certificate validity from the clock)
	"randAlpha", "randAlphaNum", "randAscii", "randBytes", "randInt", "randNumeric",
	"shuffle", "uuidv4", "bcrypt", "htpasswd", "encryptAES", "genPrivateKey",
	"genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey",
}

// baseFuncs is every template function: sprig minus removedSprig, with the
// list builders bounded, KWOK's own functions, and the Env functions bound to
// an inert Env (rebound per render). Sprig's "now" stays, on the virtual clock.
var baseFuncs = func() template.FuncMap {
	m := sprig.TxtFuncMap()
	for _, name := range removedSprig {
		delete(m, name)
	}
	for name, fn := range boundedSprig {
		m[name] = fn
	}
	m["Quote"] = quote
	m["YAML"] = toYAML
	m["Version"] = func() string { return kwokVersion }
	m["NodeConditions"] = nodeConditions
	for name, fn := range envFuncs(inertEnv{}) {
		m[name] = fn
	}
	checkSizes(m) // before the budget functions, which return what they are given
	for name, fn := range budgetFuncs(unboundedBudget) {
		m[name] = fn
	}
	return m
}()

// envFuncs are the functions that read the simulation.
func envFuncs(env Env) template.FuncMap {
	return template.FuncMap{
		"Now":         func() string { return env.Now().Format(time.RFC3339Nano) },
		"now":         func() time.Time { return env.Now() },
		"StartTime":   func() string { return env.StartTime().Format(time.RFC3339Nano) },
		"NodeIP":      env.NodeIP,
		"NodeName":    env.NodeName,
		"NodePort":    env.NodePort,
		"NodeIPWith":  env.NodeIPWith,
		"NodeIPsWith": env.NodeIPsWith,
		"PodIP":       env.PodIP,
		"PodIPWith":   env.PodIPWith,
		"PodIPsWith":  env.PodIPsWith,
		// The provisioning functions (see Env). Refuse and Skip read no Env; they are here
		// because an Env function makes a template uncacheable (tmplread.go), and a render
		// that ends in a refusal must never be cached.
		"StorageClass":       env.StorageClass,
		"VolumeNodeAffinity": env.VolumeNodeAffinity,
		"Refuse":             refuse,
		"Skip":               skip,
	}
}

// refuse is the template's Refuse REASON MESSAGE: the transition is not made and REASON and
// MESSAGE become a Warning event on the object (see Refusal).
func refuse(reason, message string) (string, error) {
	return "", &Refusal{Reason: reason, Message: message}
}

// skip is the template's Skip: the transition is not made, and nothing is said.
func skip() (string, error) { return "", &Refusal{} }

// inertEnv gives templates their function names and signatures at parse time.
type inertEnv struct{}

func (inertEnv) Now() time.Time              { return time.Time{} }
func (inertEnv) StartTime() time.Time        { return time.Time{} }
func (inertEnv) NodeIP() string              { return "" }
func (inertEnv) NodeName() string            { return "" }
func (inertEnv) NodePort() int               { return 0 }
func (inertEnv) NodeIPWith(string) string    { return "" }
func (inertEnv) NodeIPsWith(string) []string { return nil }
func (inertEnv) PodIP() string               { return "" }
func (inertEnv) PodIPWith(string, bool, string, string, string) (string, error) {
	return "", nil
}
func (inertEnv) PodIPsWith(string, bool, string, string, string) ([]string, error) {
	return nil, nil
}
func (inertEnv) StorageClass(string) map[string]any          { return nil }
func (inertEnv) VolumeNodeAffinity() (map[string]any, error) { return nil, nil }

// boundedSprig replaces sprig functions that can allocate without bound
// before the output cap sees a byte.
var boundedSprig = func() template.FuncMap {
	orig := sprig.TxtFuncMap()
	sprigUntil := orig["until"].(func(int) []int)
	sprigUntilStep := orig["untilStep"].(func(int, int, int) []int)
	sprigSeq := orig["seq"].(func(...int) string)
	return template.FuncMap{
		"repeat": func(count int, s string) (string, error) {
			if count > 0 && len(s) > 0 && count > maxRenderBytes/len(s) {
				return "", fmt.Errorf("repeat: %d × %d bytes: %w", count, len(s), ErrRenderTooLarge)
			}
			return strings.Repeat(s, max(count, 0)), nil
		},
		"indent": func(spaces int, s string) (string, error) {
			if spaces > maxRenderBytes {
				return "", fmt.Errorf("indent %d: %w", spaces, ErrRenderTooLarge)
			}
			pad := strings.Repeat(" ", max(spaces, 0))
			return pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
		},
		"nindent": func(spaces int, s string) (string, error) {
			if spaces > maxRenderBytes {
				return "", fmt.Errorf("nindent %d: %w", spaces, ErrRenderTooLarge)
			}
			pad := strings.Repeat(" ", max(spaces, 0))
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
		},
		"until": func(count int) ([]int, error) {
			if count > maxSequence || count < -maxSequence {
				return nil, fmt.Errorf("until %d: longer than %d", count, maxSequence)
			}
			return sprigUntil(count), nil
		},
		"untilStep": func(start, stop, step int) ([]int, error) {
			if step != 0 && (float64(stop)-float64(start))/float64(step) > maxSequence {
				return nil, fmt.Errorf("untilStep %d %d %d: longer than %d", start, stop, step, maxSequence)
			}
			return sprigUntilStep(start, stop, step), nil
		},
		"seq": func(params ...int) (string, error) {
			for _, p := range params {
				if p > maxSequence || p < -maxSequence {
					return "", fmt.Errorf("seq %v: arguments beyond ±%d", params, maxSequence)
				}
			}
			return sprigSeq(params...), nil
		},
	}
}()

// quote is KWOK's Quote: JSON for strings, and the JSON text of anything
// else, quoted.
func quote(s any) string {
	data, err := json.Marshal(s)
	if err != nil {
		return strconv.Quote(fmt.Sprint(s))
	}
	if len(data) == 0 {
		return `""`
	}
	if data[0] == '"' {
		return string(data)
	}
	return strconv.Quote(string(data))
}

// toYAML is KWOK's YAML: the value as YAML, each line indented by 2×indent
// spaces after a leading newline when indent > 0.
func toYAML(s any, indent ...int) (string, error) {
	d, err := yaml.Marshal(s)
	if err != nil {
		return "", err
	}
	data := string(d)
	if len(indent) == 1 && indent[0] > 0 {
		if indent[0] > 1024 {
			return "", fmt.Errorf("YAML indent %d: %w", indent[0], ErrRenderTooLarge)
		}
		pad := strings.Repeat(" ", indent[0]*2)
		data = strings.ReplaceAll("\n"+data, "\n", "\n"+pad)
	}
	return data, nil
}

// nodeConditionsJSON is KWOK's default node conditions, as JSON.
var nodeConditionsJSON = func() []byte {
	data, err := json.Marshal([]corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", Message: "kubelet is posting ready status"},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse,
			Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse,
			Reason: "RouteCreated", Message: "RouteController created a route"},
	})
	if err != nil {
		panic(err)
	}
	return data
}()

// nodeConditions returns a fresh copy each call: sprig's set/unset mutate
// maps, and one render must not change what the next one sees.
func nodeConditions() any {
	var v any
	if err := json.Unmarshal(nodeConditionsJSON, &v); err != nil {
		panic(err)
	}
	return v
}
