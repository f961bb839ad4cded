package sweep

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kwoksim/kwoksim/analysis"
)

// The Job's layout: the ConfigMap is mounted at InputsDir, the matrix copy is MatrixKey in it.
const (
	InputsDir = "/inputs"
	MatrixKey = "sweep.yaml"
	// MaxConfigMapBytes is the apiserver's limit on a ConfigMap's data.
	MaxConfigMapBytes = 1 << 20
	// IndexEnv is the variable the Job controller sets to a pod's completion index.
	IndexEnv        = "JOB_COMPLETION_INDEX"
	indexAnnotation = "batch.kubernetes.io/job-completion-index"
	containerName   = "kwoksim"
	// RunAsUser is the user the Dockerfile's image runs as (USER 65532:65532), not root.
	RunAsUser = 65532
)

// JobOptions are the Job's settings.
type JobOptions struct {
	// Image is the container image, whose entrypoint is kwoksim. It is pulled only if the
	// node does not have it (imagePullPolicy IfNotPresent), so that an image loaded into the
	// nodes (kind load docker-image) serves.
	Image string
	// Parallelism is how many pods run at once; 0 means every combination at once.
	Parallelism int
}

// Job is a sweep as Kubernetes objects: an Indexed Job whose completion index i runs
// combination i, and the ConfigMap holding its matrix and inputs.
type Job struct {
	ConfigMap *corev1.ConfigMap
	Job       *batchv1.Job
}

// DefaultImage is the image a Job runs unless told otherwise: kwoksim:<version>, the tag
// `make image` gives the image of the same checkout ("dev" outside git, and for a binary built
// without stamping). The version is made a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}):
// "+" of a semver build suffix and any other character becomes "-".
func DefaultImage(version string) string {
	tag := strings.TrimLeft(notTagChars.ReplaceAllString(version, "-"), ".-")
	if len(tag) > 128 {
		tag = tag[:128]
	}
	if tag == "" {
		tag = "dev"
	}
	return "kwoksim:" + tag
}

var notTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

var manifestExt = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// EmitJob builds the Job of the matrix. Every input is copied into the ConfigMap under a flat
// key (ConfigMap keys may not hold "/"); a directory becomes a directory of the mounted volume
// through the volume's items, holding its manifest files under their own names, so that it is
// read in the same order. The matrix copy refers to the inputs by their new names.
func (m *Matrix) EmitJob(opts JobOptions) (*Job, error) {
	name := jobName(m.File)
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name + "-inputs", Labels: map[string]string{"app.kubernetes.io/name": "kwoksim-sweep"}},
		Data:       map[string]string{},
		BinaryData: map[string][]byte{},
	}
	var items []corev1.KeyToPath
	used := map[string]bool{MatrixKey: true}
	renamed := map[string]string{} // resolved path → name in the volume
	size := 0
	addFile := func(key, path, file string) error {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if utf8.Valid(data) {
			cm.Data[key] = string(data)
		} else {
			cm.BinaryData[key] = data
		}
		size += len(key) + len(data)
		items = append(items, corev1.KeyToPath{Key: key, Path: path})
		return nil
	}
	for _, in := range m.Inputs() {
		if _, done := renamed[in.Resolved]; done {
			continue
		}
		flat := unique(flatName(in.Path), used)
		renamed[in.Resolved] = flat
		info, err := os.Stat(in.Resolved)
		if err != nil {
			return nil, m.InputError(in, err)
		}
		if !info.IsDir() {
			if err := addFile(flat, flat, in.Resolved); err != nil {
				return nil, m.InputError(in, err)
			}
			continue
		}
		entries, err := os.ReadDir(in.Resolved)
		if err != nil {
			return nil, m.InputError(in, err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || !manifestExt[strings.ToLower(filepath.Ext(e.Name()))] {
				continue
			}
			key := unique(flatName(flat+"_"+e.Name()), used)
			if err := addFile(key, flat+"/"+e.Name(), filepath.Join(in.Resolved, e.Name())); err != nil {
				return nil, m.InputError(in, err)
			}
		}
	}
	matrix, err := m.rewritten(renamed)
	if err != nil {
		return nil, err
	}
	cm.Data[MatrixKey] = string(matrix)
	size += len(MatrixKey) + len(matrix)
	items = append(items, corev1.KeyToPath{Key: MatrixKey, Path: MatrixKey})
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	if size > MaxConfigMapBytes {
		return nil, &Error{File: m.File, Msg: fmt.Sprintf("the matrix and its inputs are %d bytes, more than a ConfigMap holds (%d bytes); "+
			"put the inputs in an image or a volume and run `kwoksim sweep FILE --index I` there", size, MaxConfigMapBytes)}
	}
	if len(cm.BinaryData) == 0 {
		cm.BinaryData = nil
	}

	n := int32(m.Len())
	parallelism := n
	if opts.Parallelism > 0 && int32(opts.Parallelism) < n {
		parallelism = int32(opts.Parallelism)
	}
	labels := map[string]string{"app.kubernetes.io/name": "kwoksim-sweep"}
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode: ptr.To(batchv1.IndexedCompletion),
			Completions:    &n,
			Parallelism:    &parallelism,
			// A pod that dies of its node's trouble is retried; bad input (2) or a failed
			// simulation (3) would fail again, so its index fails at once.
			BackoffLimitPerIndex: ptr.To[int32](2),
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailIndex,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: ptr.To(containerName), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{2, 3},
				},
			}}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{
						Name:  containerName,
						Image: opts.Image,
						// $(JOB_COMPLETION_INDEX) is expanded by the kubelet from the container's
						// env, declared below from the pod's completion-index annotation (the Job
						// controller would add the same variable; declaring it makes the expansion
						// independent of that).
						Args: []string{"sweep", InputsDir + "/" + MatrixKey, "--index", "$(" + IndexEnv + ")", "-o", "json"},
						Env: []corev1.EnvVar{{Name: IndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
							FieldPath: fmt.Sprintf("metadata.annotations['%s']", indexAnnotation)}}}},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}},
						VolumeMounts:             []corev1.VolumeMount{{Name: "inputs", MountPath: InputsDir, ReadOnly: true}},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						// Without it a tag of :latest (or none) would be pulled on every start.
						ImagePullPolicy: corev1.PullIfNotPresent,
						// What the restricted Pod Security Standard asks for. The pod reads
						// the volume and writes only to stdout: its root file system can be
						// read-only.
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot:             ptr.To(true),
							RunAsUser:                ptr.To[int64](RunAsUser),
							RunAsGroup:               ptr.To[int64](RunAsUser),
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
					}},
					Volumes: []corev1.Volume{{Name: "inputs", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}, Items: items}}}},
				},
			},
		},
	}
	return &Job{ConfigMap: cm, Job: job}, nil
}

// rewritten is the matrix document with every input path replaced by its name in the volume.
func (m *Matrix) rewritten(renamed map[string]string) ([]byte, error) {
	for _, in := range m.Inputs() {
		if n := m.node(in.path...); n != nil {
			n.Value = renamed[in.Resolved]
		}
	}
	defer func() { // put the document back as read
		for _, in := range m.Inputs() {
			if n := m.node(in.path...); n != nil {
				n.Value = in.Path
			}
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m.root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var notKeyChars = regexp.MustCompile(`[^-._a-zA-Z0-9]+`)

// flatName turns a path into a ConfigMap key: [-._a-zA-Z0-9]+, directories joined by "_",
// leading "../" dropped.
func flatName(p string) string {
	p = filepath.ToSlash(filepath.Clean(p))
	for strings.HasPrefix(p, "../") {
		p = p[3:]
	}
	p = strings.TrimPrefix(p, "/")
	s := notKeyChars.ReplaceAllString(strings.ReplaceAll(p, "/", "_"), "_")
	// Keys are at most 253 characters and each is also a file name in the volume (255 bytes
	// at most on most file systems); the end of a long path says the most about it.
	if len(s) > maxFlatName {
		s = strings.TrimLeft(s[len(s)-maxFlatName:], "_-")
	}
	if s == "" || s == "." || s == ".." || strings.HasPrefix(s, ".") {
		s = "input" + s
	}
	return s
}

const maxFlatName = 100

// unique returns name, or name with -2, -3, … before its extension, whichever is not used yet.
func unique(name string, used map[string]bool) string {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	out := name
	for i := 2; used[out]; i++ {
		out = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	used[out] = true
	return out
}

var notNameChars = regexp.MustCompile(`[^a-z0-9-]+`)

// jobName is kwoksim-sweep-<matrix file stem>, as a DNS label short enough for an Indexed
// Job's pod names and labels.
func jobName(file string) string {
	stem := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	stem = strings.Trim(notNameChars.ReplaceAllString(stem, "-"), "-")
	name := "kwoksim-sweep"
	if stem != "" && stem != "sweep" {
		name += "-" + stem
	}
	if len(name) > 48 {
		name = strings.TrimRight(name[:48], "-")
	}
	return name
}

// Files of --emit-job DIR.
const (
	ConfigMapFile = "configmap.yaml"
	JobFile       = "job.yaml"
)

// Write writes the ConfigMap and the Job into dir (created if missing), each atomically.
func (j *Job) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		obj  any
	}{{ConfigMapFile, j.ConfigMap}, {JobFile, j.Job}} {
		data, err := sigsyaml.Marshal(f.obj)
		if err != nil {
			return err
		}
		if err := analysis.WriteFileAtomic(filepath.Join(dir, f.name), func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
