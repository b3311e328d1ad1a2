package cicontext

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/vigil-otel/vigil/semconv"
)

func TestCIDetector(t *testing.T) {
	env := gitlabMergeRequest()
	res, err := CIDetector(func(name string) string { return env[name] }, nil).Detect(t.Context())
	require.NoError(t, err)
	assert.Equal(t, semconv.SchemaURL, res.SchemaURL())
	want := attribute.NewSet(Attributes(env, nil)...)
	assert.True(t, want.Equals(res.Set()), "resource %v", res)
	got, ok := res.Set().Value(semconv.CICDPipelineTaskRunIDKey)
	assert.True(t, ok)
	assert.Equal(t, "7654321098", got.AsString())

	res, err = CIDetector(func(string) string { return "" }, nil).Detect(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 0, res.Len())
}

// The detectors go where the exporter puts them.
func TestDetectorsInResource(t *testing.T) {
	env := githubPush()
	proc := fstest.MapFS{"mountinfo": {Data: []byte(dockerMountinfo)}}
	res, err := resource.New(t.Context(),
		resource.WithDetectors(CIDetector(func(name string) string { return env[name] }, nil), ContainerDetector(proc, nil)),
		resource.WithAttributes(semconv.ServiceNameKey.String("vigil")))
	require.NoError(t, err)
	set := res.Set()
	for key, want := range map[attribute.Key]string{
		semconv.ServiceNameKey:       "vigil",
		semconv.CICDPipelineRunIDKey: "9876543210-1",
		semconv.ContainerIDKey:       dockerID,
	} {
		got, _ := set.Value(key)
		assert.Equal(t, want, got.AsString(), "%s", key)
	}
}

const (
	dockerID = "be522444b60caf2d3934b8b24b916a8a314f4b68d4595aa419874657e8d103f2"
	podmanID = "2a33efc76e519c137fe6093179653788bed6162d4a15e5131c8e835c968afbe6"
	podID    = "0f1c6b1e3d2a4c5b8e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
	ctrID    = "7e6b6a1f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"

	dockerMountinfo = `1435 1258 0:155 / / rw,relatime master:432 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/0f1e/diff,workdir=/var/lib/docker/overlay2/0f1e/work
1436 1435 0:158 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1441 1435 259:2 /var/lib/docker/containers/` + dockerID + `/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p2 rw
1442 1435 259:2 /var/lib/docker/containers/` + dockerID + `/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p2 rw
1443 1435 259:2 /var/lib/docker/containers/` + dockerID + `/hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p2 rw
`
	podmanMountinfo = `1004 933 0:85 / / rw,relatime - overlay overlay rw,lowerdir=/home/u/.local/share/containers/storage/overlay/l/X
1010 1004 0:25 /containers/storage/overlay-containers/` + podmanID + `/userdata/hostname /etc/hostname rw,nosuid,nodev - tmpfs tmpfs rw,size=3280220k,mode=755
`
	// containerd mounts /etc/hostname from the pod's sandbox; the
	// container's own directory holds only the termination log.
	kubernetesMountinfo = `2275 2253 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/` + podID + `/hostname /etc/hostname rw,relatime - ext4 /dev/root rw
2276 2253 259:1 /var/lib/kubelet/pods/5c0f6a2e-2b1c-4d3e-9f8a-7b6c5d4e3f2a/containers/vigil/6b9e1a2c /dev/termination-log rw,relatime - ext4 /dev/root rw
`
	hostMountinfo = `22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
25 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
`
)

// fromCgroup stands for the sensor's parser of cgroup paths.
func fromCgroup(path string) string {
	if strings.HasSuffix(path, "/cri-containerd-"+ctrID+".scope") {
		return ctrID
	}
	return ""
}

func TestContainerDetector(t *testing.T) {
	k8sCgroup := "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5c0f6a2e.slice/cri-containerd-" + ctrID + ".scope\n"
	tests := []struct {
		name       string
		proc       fstest.MapFS
		fromCgroup func(string) string
		want       string
	}{
		{"docker, private cgroup namespace", fstest.MapFS{"cgroup": {Data: []byte("0::/\n")}, "mountinfo": {Data: []byte(dockerMountinfo)}}, fromCgroup, dockerID},
		{"podman rootless", fstest.MapFS{"cgroup": {Data: []byte("0::/\n")}, "mountinfo": {Data: []byte(podmanMountinfo)}}, nil, podmanID},
		{"kubernetes, host cgroup namespace", fstest.MapFS{"cgroup": {Data: []byte(k8sCgroup)}, "mountinfo": {Data: []byte(kubernetesMountinfo)}}, fromCgroup, ctrID},
		{"kubernetes without the cgroup parser", fstest.MapFS{"cgroup": {Data: []byte(k8sCgroup)}, "mountinfo": {Data: []byte(kubernetesMountinfo)}}, nil, ""},
		{"host", fstest.MapFS{"cgroup": {Data: []byte("0::/user.slice/user-1000.slice/session-3.scope\n")}, "mountinfo": {Data: []byte(hostMountinfo)}}, fromCgroup, ""},
		{"no proc", fstest.MapFS{}, fromCgroup, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ContainerDetector(tt.proc, tt.fromCgroup).Detect(t.Context())
			require.NoError(t, err)
			got, _ := res.Set().Value(semconv.ContainerIDKey)
			assert.Equal(t, tt.want, got.AsString())
		})
	}
}

// unreadable is a /proc/self whose files cannot be opened.
type unreadable struct{}

func (unreadable) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
}

func TestContainerDetectorError(t *testing.T) {
	_, err := ContainerDetector(unreadable{}, nil).Detect(t.Context())
	require.ErrorIs(t, err, fs.ErrPermission)
	assert.ErrorContains(t, err, "container id")
}

// On this machine, whatever it is, the detector reads /proc/self.
func TestContainerDetectorProc(t *testing.T) {
	_, err := ContainerDetector(os.DirFS("/proc/self"), nil).Detect(context.Background())
	require.NoError(t, err)
}
