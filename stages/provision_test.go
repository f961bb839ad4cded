package stages

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// volumeEnv is an Env with one StorageClass and a fixed VolumeNodeAffinity answer.
type volumeEnv struct {
	stubEnv
	class    map[string]any
	affinity map[string]any
}

func (e volumeEnv) StorageClass(name string) map[string]any {
	if e.class == nil || e.class["metadata"].(map[string]any)["name"] != name {
		return nil
	}
	return e.class
}

func (e volumeEnv) VolumeNodeAffinity() (map[string]any, error) { return e.affinity, nil }

func yamlObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// provisionClaim is a claim the PV controller handed to ebs.csi.example.com, after the scheduler
// picked node-b.
const provisionClaim = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-web-0
  namespace: shop
  uid: 1f0c7e52-4a61-4d3a-9a55-0c1b2a3d4e5f
  resourceVersion: "42"
  annotations:
    volume.kubernetes.io/storage-provisioner: ebs.csi.example.com
    volume.beta.kubernetes.io/storage-provisioner: ebs.csi.example.com
    volume.kubernetes.io/selected-node: node-b
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 10Gi
  storageClassName: gp3
  volumeMode: Filesystem
status:
  phase: Pending
`

const provisionClass = `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: gp3
provisioner: ebs.csi.example.com
parameters:
  type: gp3
  csi.storage.k8s.io/fstype: xfs
reclaimPolicy: Retain
mountOptions: [noatime]
volumeBindingMode: WaitForFirstConsumer
`

const zoneAffinity = `
required:
  nodeSelectorTerms:
  - matchExpressions:
    - key: topology.kubernetes.io/zone
      operator: In
      values: [zone-b]
`

// The PersistentVolume external-provisioner creates for the claim (csiProvisioner.Provision,
// provisionClaimOperation): named pvc-<uid>, the claim's request, access modes and volume
// mode, the class's reclaim policy and mount options, fsType from the class's
// csi.storage.k8s.io/fstype, a claimRef as ref.GetReference makes it, provisioned-by the
// class's provisioner, the empty deletion-secret annotations, the topology it was given.
const provisionedVolume = `
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pvc-1f0c7e52-4a61-4d3a-9a55-0c1b2a3d4e5f
  annotations:
    pv.kubernetes.io/provisioned-by: ebs.csi.example.com
    volume.kubernetes.io/provisioner-deletion-secret-name: ""
    volume.kubernetes.io/provisioner-deletion-secret-namespace: ""
spec:
  accessModes: [ReadWriteOnce]
  capacity:
    storage: 10Gi
  claimRef:
    apiVersion: v1
    kind: PersistentVolumeClaim
    name: data-web-0
    namespace: shop
    resourceVersion: "42"
    uid: 1f0c7e52-4a61-4d3a-9a55-0c1b2a3d4e5f
  csi:
    driver: ebs.csi.example.com
    volumeHandle: pvc-1f0c7e52-4a61-4d3a-9a55-0c1b2a3d4e5f
    fsType: xfs
  mountOptions: [noatime]
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: topology.kubernetes.io/zone
          operator: In
          values: [zone-b]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: gp3
  volumeMode: Filesystem
`

func defaultStage(t *testing.T, name string) *Stage {
	t.Helper()
	for _, s := range Default() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no default stage %s", name)
	return nil
}

func TestPVCProvisionCreatesTheVolume(t *testing.T) {
	claim := yamlObject(t, provisionClaim)
	env := volumeEnv{class: yamlObject(t, provisionClass), affinity: yamlObject(t, zoneAffinity)}
	stage := defaultStage(t, "pvc-provision")
	matched, err := Match(Default(), "PersistentVolumeClaim", claim)
	if err != nil || len(matched) != 1 || matched[0] != stage {
		t.Fatalf("matched %v (%v), want pvc-provision only", stageNames(matched), err)
	}
	steps, err := stage.Steps(claim, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].Apply == nil {
		t.Fatalf("steps %+v, want one apply", steps)
	}
	var got any
	if err := json.Unmarshal(steps[0].Apply.Data, &got); err != nil {
		t.Fatal(err)
	}
	var want any
	if err := yaml.Unmarshal([]byte(provisionedVolume), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		gotYAML, _ := yaml.Marshal(got)
		t.Errorf("rendered PV:\n%s\nwant:\n%s", gotYAML, provisionedVolume)
	}

	// A Block claim gets no fsType; a class without reclaimPolicy, mount options or fstype
	// gives Delete and none; a volume without topology no nodeAffinity.
	claim["spec"].(map[string]any)["volumeMode"] = "Block"
	class := yamlObject(t, provisionClass)
	delete(class, "reclaimPolicy")
	delete(class, "mountOptions")
	steps, err = stage.Steps(claim, volumeEnv{class: class})
	if err != nil {
		t.Fatal(err)
	}
	var pv map[string]any
	if err := json.Unmarshal(steps[0].Apply.Data, &pv); err != nil {
		t.Fatal(err)
	}
	spec := pv["spec"].(map[string]any)
	if _, ok := spec["csi"].(map[string]any)["fsType"]; ok {
		t.Errorf("Block volume with fsType: %v", spec["csi"])
	}
	for _, f := range []string{"mountOptions", "nodeAffinity"} {
		if _, ok := spec[f]; ok {
			t.Errorf("spec.%s = %v, want none", f, spec[f])
		}
	}
	if spec["persistentVolumeReclaimPolicy"] != "Delete" || spec["volumeMode"] != "Block" {
		t.Errorf("reclaim policy %v, volume mode %v; want Delete, Block", spec["persistentVolumeReclaimPolicy"], spec["volumeMode"])
	}
}

// What external-provisioner refuses, or waits for, creates nothing.
func TestPVCProvisionRefusals(t *testing.T) {
	stage := defaultStage(t, "pvc-provision")
	for _, tc := range []struct {
		name   string
		edit   func(claim, class map[string]any)
		reason string
		msg    string
	}{
		{"the class is gone", func(claim, class map[string]any) { claim["spec"].(map[string]any)["storageClassName"] = "gone" },
			"ProvisioningFailed", `storageclass.storage.k8s.io "gone" not found`},
		{"WaitForFirstConsumer without a selected node waits", func(claim, class map[string]any) {
			delete(claim["metadata"].(map[string]any)["annotations"].(map[string]any), "volume.kubernetes.io/selected-node")
		}, "", ""},
		{"a claim selector", func(claim, class map[string]any) {
			claim["spec"].(map[string]any)["selector"] = map[string]any{"matchLabels": map[string]any{"a": "b"}}
		}, "ProvisioningFailed", "claim Selector is not supported"},
		{"both fstype parameters", func(claim, class map[string]any) { class["parameters"].(map[string]any)["FsType"] = "ext4" },
			"ProvisioningFailed", `fstype specified in parameters with both "fstype" and "csi.storage.k8s.io/fstype" keys`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claim, class := yamlObject(t, provisionClaim), yamlObject(t, provisionClass)
			tc.edit(claim, class)
			_, err := stage.Steps(claim, volumeEnv{class: class})
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("error %v, want a refusal", err)
			}
			if r.Reason != tc.reason || r.Message != tc.msg {
				t.Errorf("refusal %q %q, want %q %q", r.Reason, r.Message, tc.reason, tc.msg)
			}
		})
	}
}

// A claim already bound, or being deleted, or not handed to a provisioner, is not provisioned;
// pv-delete takes only released volumes a provisioner made with reclaim policy Delete.
func TestProvisioningStagesMatch(t *testing.T) {
	set := Default()
	for _, tc := range []struct {
		name, kind, obj string
		want            []string
	}{
		{"bound claim", "PersistentVolumeClaim", `{"metadata":{"annotations":{"volume.kubernetes.io/storage-provisioner":"d"}},"spec":{"volumeName":"pv"}}`, nil},
		{"claim being deleted", "PersistentVolumeClaim", `{"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z","annotations":{"volume.kubernetes.io/storage-provisioner":"d"}},"spec":{}}`, nil},
		{"claim for no provisioner", "PersistentVolumeClaim", `{"metadata":{},"spec":{"storageClassName":"x"}}`, nil},
		{"beta annotation only", "PersistentVolumeClaim", `{"metadata":{"annotations":{"volume.beta.kubernetes.io/storage-provisioner":"d"}},"spec":{}}`, []string{"pvc-provision"}},
		{"released provisioned volume", "PersistentVolume", `{"metadata":{"annotations":{"pv.kubernetes.io/provisioned-by":"d"}},"spec":{"persistentVolumeReclaimPolicy":"Delete"},"status":{"phase":"Released"}}`, []string{"pv-delete"}},
		{"retained volume", "PersistentVolume", `{"metadata":{"annotations":{"pv.kubernetes.io/provisioned-by":"d"}},"spec":{"persistentVolumeReclaimPolicy":"Retain"},"status":{"phase":"Released"}}`, nil},
		{"static volume", "PersistentVolume", `{"metadata":{},"spec":{"persistentVolumeReclaimPolicy":"Delete"},"status":{"phase":"Released"}}`, nil},
		{"bound volume", "PersistentVolume", `{"metadata":{"annotations":{"pv.kubernetes.io/provisioned-by":"d"}},"spec":{"persistentVolumeReclaimPolicy":"Delete"},"status":{"phase":"Bound"}}`, nil},
	} {
		var obj map[string]any
		if err := json.Unmarshal([]byte(tc.obj), &obj); err != nil {
			t.Fatal(err)
		}
		matched, err := Match(set, tc.kind, obj)
		if err != nil {
			t.Fatal(err)
		}
		if got := stageNames(matched); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: matched %v, want %v", tc.name, got, tc.want)
		}
	}
}

// stages explain shows a refusal as what the simulator would do, not as a broken stage.
func TestExplainShowsARefusal(t *testing.T) {
	claim := yamlObject(t, provisionClaim)
	var b strings.Builder
	if err := WriteExplanations(&b, Explain(Default(), "PersistentVolumeClaim", claim, kwokNow, volumeEnv{})); err != nil {
		t.Fatal(err)
	}
	want := `refused: nothing is done and a Warning ProvisioningFailed is recorded: storageclass.storage.k8s.io "gp3" not found`
	if !strings.Contains(b.String(), want) || strings.Contains(b.String(), "ERROR") {
		t.Errorf("explanation:\n%s\nwant %q", b.String(), want)
	}
}

// The README's provisioning-delay example is the default pvc-provision stage with a delay and
// another name, and must stay so: a change to the default is a change to the example.
func TestProvisioningDelayExampleIsTheDefault(t *testing.T) {
	body := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		s = s[strings.Index(s, "apiVersion: kwok.x-k8s.io"):]
		s = strings.Replace(s, "  name: pvc-provision-ebs\n", "  name: pvc-provision\n", 1)
		return strings.Replace(s, "  delay:\n    durationMilliseconds: 5000\n    jitterDurationMilliseconds: 25000\n", "", 1)
	}
	if body("../testdata/scenarios/statefulset-zones/pvc-provision-ebs.yaml") != body("default/pvc-provision.yaml") {
		t.Error("testdata/scenarios/statefulset-zones/pvc-provision-ebs.yaml is no longer stages/default/pvc-provision.yaml with a delay: copy the default again and keep its name and delay")
	}
}
