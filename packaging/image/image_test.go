package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/containertest"
)

// leastCapabilities are the capabilities docs/install.md documents for
// vigil in a container on a kernel of 5.11 or later (older ones also need
// CAP_SYS_RESOURCE, for the memlock limit).
var leastCapabilities = []string{"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"}

// readBlob reads the blob a descriptor points at, checking its digest and
// size.
func readBlob(t *testing.T, layout string, d descriptor) []byte {
	t.Helper()
	algo, hexSum, ok := strings.Cut(d.Digest, ":")
	require.True(t, ok && algo == "sha256", d.Digest)
	b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", hexSum))
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	require.Equal(t, hexSum, hex.EncodeToString(sum[:]), "blob content matches its digest")
	require.Equal(t, d.Size, int64(len(b)))
	return b
}

// imageOf follows index.json to the manifest of arch and returns it, with
// its config.
func imageOf(t *testing.T, layout, arch string) (manifest struct {
	MediaType   string
	Config      descriptor
	Layers      []descriptor
	Annotations map[string]string
}, config struct {
	Architecture string
	OS           string
	Config       struct{ Entrypoint, Cmd []string }
	RootFS       struct {
		DiffIDs []string `json:"diff_ids"`
	}
}) {
	t.Helper()
	var top, index struct{ Manifests []descriptor }
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &top))
	require.Len(t, top.Manifests, 1)
	require.Equal(t, mediaIndex, top.Manifests[0].MediaType)
	require.NoError(t, json.Unmarshal(readBlob(t, layout, top.Manifests[0]), &index))
	for _, m := range index.Manifests {
		if m.Platform.Architecture == arch {
			require.NoError(t, json.Unmarshal(readBlob(t, layout, m), &manifest))
			require.NoError(t, json.Unmarshal(readBlob(t, layout, manifest.Config), &config))
			return manifest, config
		}
	}
	t.Fatalf("no manifest for %s", arch)
	return manifest, config
}

// unpack extracts the image's one layer into dir, checking its diff id.
func unpack(t *testing.T, layout string, layer descriptor, diffID, dir string) []string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(string(readBlob(t, layout, layer))))
	require.NoError(t, err)
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(zr, h))
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
		require.Zero(t, hdr.Uid)
		require.Zero(t, hdr.Gid)
		path := filepath.Join(dir, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(path, 0o755))
			require.NoError(t, os.Chmod(path, os.FileMode(hdr.Mode).Perm()))
		case tar.TypeReg:
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, os.FileMode(hdr.Mode))
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
	}
	_, err = io.Copy(io.Discard, zr)
	require.NoError(t, err)
	require.Equal(t, diffID, "sha256:"+hex.EncodeToString(h.Sum(nil)), "the config's diff id is the layer's")
	return names
}

func TestImage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running the image needs root")
	}
	t.Chdir("../..")
	out := filepath.Join(t.TempDir(), "layout")
	opts := options{out: out, arches: []string{runtime.GOARCH}, archive: true}
	require.NoError(t, run(opts))

	// Reproducible: a second build of the same tree gives the same bytes.
	again := filepath.Join(t.TempDir(), "layout")
	opts.out = again
	require.NoError(t, run(opts))
	for _, pair := range [][2]string{{out + "/index.json", again + "/index.json"}, {out + ".tar", again + ".tar"}} {
		a, err := os.ReadFile(pair[0])
		require.NoError(t, err)
		b, err := os.ReadFile(pair[1])
		require.NoError(t, err)
		require.Equal(t, a, b, "%s differs between two builds", filepath.Base(pair[0]))
	}

	manifest, config := imageOf(t, out, runtime.GOARCH)
	require.Equal(t, mediaManifest, manifest.MediaType)
	require.Equal(t, runtime.GOARCH, config.Architecture)
	require.Equal(t, "linux", config.OS)
	require.Equal(t, []string{"/usr/bin/vigil"}, config.Config.Entrypoint)
	require.Equal(t, []string{"run"}, config.Config.Cmd)
	for _, key := range []string{"title", "source", "revision", "version", "created"} {
		require.NotEmpty(t, manifest.Annotations["org.opencontainers.image."+key], key)
	}
	created, err := time.Parse(time.RFC3339, manifest.Annotations["org.opencontainers.image.created"])
	require.NoError(t, err)
	require.False(t, created.IsZero())

	// Nothing but vigil and its folders: no shell, no package manager.
	rootfs := t.TempDir()
	require.Len(t, manifest.Layers, 1)
	names := unpack(t, out, manifest.Layers[0], config.RootFS.DiffIDs[0], rootfs)
	require.Equal(t, []string{"etc/", "etc/vigil/", "etc/vigil/recipes/", "tmp/", "usr/", "usr/bin/", "usr/bin/vigil"}, names)
	for _, dir := range []string{"host/proc", "out"} {
		require.NoError(t, os.MkdirAll(filepath.Join(rootfs, dir), 0o755), "mount points")
	}

	// The image runs as a container with the documented capabilities
	// only, sees the host's processes through /host/proc, and detects an
	// exec on the host.
	outDir := t.TempDir()
	c := containertest.StartWith(t, "", containertest.Options{
		RootFS:       rootfs,
		Capabilities: leastCapabilities,
		Mounts: []containertest.Mount{
			{Source: "/proc", Destination: "/host/proc", ReadOnly: true},
			{Source: outDir, Destination: "/out"},
		},
	}, append(config.Config.Entrypoint, append(config.Config.Cmd, "--proc-root", "/host/proc", "--jsonl", "/out/detections.jsonl")...)...)
	jsonl := filepath.Join(outDir, "detections.jsonl")
	require.Eventually(t, func() bool {
		_, err := os.Stat(jsonl)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "vigil opens its output once it runs")

	archive := filepath.Join(t.TempDir(), "x.zip")
	var found bool
	require.Eventually(t, func() bool {
		// zip, on the host, under a name the test can find.
		require.NoError(t, exec.Command("zip", "-q", archive, "/etc/hostname").Run())
		b, _ := os.ReadFile(jsonl)
		found = strings.Contains(string(b), archive)
		return found
	}, 30*time.Second, 500*time.Millisecond, "a host exec is detected from inside the container")
	c.Kill()
	res := c.Wait()
	require.True(t, found, "stderr: %s", res.Stderr)
}
