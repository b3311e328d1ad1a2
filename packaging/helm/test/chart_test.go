// Package chart_test renders vigil's Helm chart with Helm's own engine and
// decodes every object strictly into the Kubernetes API's Go types: an
// unknown or misspelt field fails. It is a module of its own, so that Helm
// and the Kubernetes types stay out of vigil's dependencies; .ci/run runs
// it.
package chart_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// objects are the chart's rendered objects, decoded.
type objects struct {
	daemonSet      appsv1.DaemonSet
	configMap      corev1.ConfigMap
	serviceAccount corev1.ServiceAccount
}

// render renders the chart with values over its defaults and decodes each
// object strictly by its kind.
func render(t *testing.T, values map[string]any) objects {
	t.Helper()
	chart, err := loader.Load("../vigil")
	require.NoError(t, err)
	vals, err := chartutil.ToRenderValues(chart, values, chartutil.ReleaseOptions{Name: "vigil", Namespace: "security", IsInstall: true}, nil)
	require.NoError(t, err)
	files, err := engine.Render(chart, vals)
	require.NoError(t, err)

	var out objects
	kinds := map[string]any{"DaemonSet": &out.daemonSet, "ConfigMap": &out.configMap, "ServiceAccount": &out.serviceAccount}
	seen := map[string]bool{}
	for name, text := range files {
		if strings.HasSuffix(name, ".tpl") || strings.TrimSpace(text) == "" {
			continue
		}
		var head struct{ APIVersion, Kind string }
		require.NoError(t, yaml.Unmarshal([]byte(text), &head), name)
		into, ok := kinds[head.Kind]
		require.True(t, ok, "%s: unexpected kind %q", name, head.Kind)
		require.NoError(t, yaml.UnmarshalStrict([]byte(text), into), "%s: strictly as a %s", name, head.Kind)
		seen[head.Kind] = true
	}
	require.Len(t, seen, len(kinds), "every object rendered")
	return out
}

func TestDefaults(t *testing.T) {
	o := render(t, nil)
	ds := o.daemonSet
	require.Equal(t, "security", ds.Namespace)
	pod := ds.Spec.Template.Spec
	require.False(t, pod.HostPID, "the host's processes come through /host/proc")
	require.Equal(t, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, pod.Tolerations, "every node")
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	require.Equal(t, "ghcr.io/vigil-otel/vigil:dev", c.Image)
	require.Equal(t, []string{"run", "--proc-root=/host/proc", "--recipes=/etc/vigil/recipes", "--health-addr=0.0.0.0:9464", "--spans=detections", "--state-dir=/var/lib/vigil"}, c.Args)

	sc := c.SecurityContext
	require.False(t, *sc.Privileged)
	require.False(t, *sc.AllowPrivilegeEscalation)
	require.True(t, *sc.ReadOnlyRootFilesystem)
	require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	require.Equal(t, []corev1.Capability{"BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE", "DAC_READ_SEARCH"}, sc.Capabilities.Add,
		"the capabilities docs/install.md documents")

	require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	require.Equal(t, "health", c.LivenessProbe.HTTPGet.Port.String())
	require.NotEmpty(t, c.Resources.Requests.Memory().String())
	require.Equal(t, "256Mi", c.Resources.Limits.Memory().String())

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	for _, path := range []string{"/host/proc", "/sys/kernel/btf", "/etc/vigil/recipes"} {
		require.True(t, mounts[path].ReadOnly, "%s read-only", path)
	}
	hostPaths := map[string]string{}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	require.Equal(t, map[string]string{"host-proc": "/proc", "btf": "/sys/kernel/btf", "spool": "/var/lib/vigil"}, hostPaths)
	require.False(t, mounts["/var/lib/vigil"].ReadOnly, "the spool is written")
	require.False(t, *o.serviceAccount.AutomountServiceAccountToken, "vigil asks nothing of the API server")
	require.Empty(t, o.configMap.Data)
}

func TestValues(t *testing.T) {
	base := render(t, nil)
	recipe := "recipes:\n  - name: our_deploy_tool\n    description: Our deploy tool ran\n"
	o := render(t, map[string]any{
		"image":          map[string]any{"repository": "registry.example.com/vigil", "tag": "v1.2.3"},
		"otlp":           map[string]any{"endpoint": "https://collector.example.com:4317", "headersSecret": map[string]any{"name": "vigil-otlp", "key": "headers"}},
		"recipes":        map[string]any{"ours.yaml": recipe},
		"tolerations":    []any{map[string]any{"key": "ci", "operator": "Equal", "value": "true", "effect": "NoSchedule"}},
		"resources":      map[string]any{"limits": map[string]any{"memory": "512Mi"}},
		"extraArgs":      []any{"--ring-buffer-size=16777216"},
		"spans":          "all",
		"seccompProfile": "Unconfined",
		"hostPID":        true,
	})
	c := o.daemonSet.Spec.Template.Spec.Containers[0]
	require.True(t, o.daemonSet.Spec.Template.Spec.HostPID)
	require.Equal(t, "registry.example.com/vigil:v1.2.3", c.Image)
	require.Equal(t, recipe, o.configMap.Data["ours.yaml"])
	require.Contains(t, c.Args, "--ring-buffer-size=16777216")
	require.Contains(t, c.Args, "--spans=all")
	require.Equal(t, "512Mi", c.Resources.Limits.Memory().String())
	require.Equal(t, corev1.SeccompProfileType("Unconfined"), c.SecurityContext.SeccompProfile.Type)
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "OTEL_EXPORTER_OTLP_HEADERS" })
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, "vigil-otlp", c.Env[i].ValueFrom.SecretKeyRef.Name)
	require.Equal(t, []corev1.Toleration{{Key: "ci", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}},
		o.daemonSet.Spec.Template.Spec.Tolerations)

	// A change of the recipes changes the pods' template: they roll.
	key := "checksum/recipes"
	require.NotEmpty(t, base.daemonSet.Spec.Template.Annotations[key])
	require.NotEqual(t, base.daemonSet.Spec.Template.Annotations[key], o.daemonSet.Spec.Template.Annotations[key])
}
