// Command image builds vigil's container image as an OCI image layout:
// one static vigil per architecture on an empty base (no shell, no package
// manager, nothing else), reproducible byte for byte from a commit, and
// labelled with the OCI annotations. No base image is pulled and no
// container engine is needed; the layout loads into any of them:
//
//	go run ./packaging/image -out vigil-image          # amd64 and arm64
//	skopeo copy oci:vigil-image:latest docker-daemon:vigil:latest
//	podman load -i vigil-image.tar                     # -archive
//
// Every file of the image has a fixed time (the commit's), owner root and
// a fixed mode; the layers are gzip without a name or time, so two builds of
// one commit give the same digests.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The media types of an OCI image (image-spec v1.1).
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Where vigil and its folders stand in the image.
const (
	binaryPath = "usr/bin/vigil"
	recipesDir = "etc/vigil/recipes"
)

type options struct {
	out     string
	arches  []string
	version string
	// revision and created say which commit the image is, and when.
	revision string
	created  time.Time
	archive  bool
}

func main() {
	var (
		opts   options
		arches string
	)
	flag.StringVar(&opts.out, "out", "vigil-image", "the OCI image layout folder to write")
	flag.StringVar(&arches, "arch", "amd64,arm64", "the architectures, comma-separated")
	flag.StringVar(&opts.version, "version", "", "the image's version and tag (default: the commit's tag, or dev)")
	flag.BoolVar(&opts.archive, "archive", true, "also write the layout as a tar archive, OUT.tar")
	flag.Parse()
	opts.arches = strings.Split(arches, ",")
	if err := run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func run(opts options) error {
	if err := fromGit(&opts); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "vigil-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	binaries := map[string]string{}
	for _, arch := range opts.arches {
		bin := filepath.Join(work, "vigil-"+arch)
		if err := buildVigil(arch, bin); err != nil {
			return err
		}
		binaries[arch] = bin
	}
	if err := writeLayout(opts, binaries); err != nil {
		return err
	}
	if opts.archive {
		if err := writeArchive(opts.out, opts.out+".tar", opts.created); err != nil {
			return err
		}
	}
	slog.Info("image written", "layout", opts.out, "version", opts.version, "arches", opts.arches)
	return nil
}

// fromGit fills in the revision, the time and (unless given) the version
// from the commit checked out.
func fromGit(opts *options) error {
	git := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	opts.revision = git("rev-parse", "HEAD")
	secs, err := strconv.ParseInt(git("log", "-1", "--format=%ct"), 10, 64)
	if err != nil {
		return fmt.Errorf("the commit's time (git log): %w", err)
	}
	opts.created = time.Unix(secs, 0).UTC()
	if opts.version == "" {
		opts.version = git("describe", "--tags", "--exact-match")
	}
	if opts.version == "" {
		opts.version = "dev"
	}
	return nil
}

// buildVigil builds a static vigil for arch at out, as release/build.sh
// does.
func buildVigil(arch, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", out, "./cmd/vigil")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build vigil for %s: %w: %s", arch, err, b)
	}
	return nil
}

// descriptor points at a blob.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// writeLayout writes the OCI image layout: a blob per layer, config and
// manifest, an image index of the architectures, and index.json naming it
// by its version.
func writeLayout(opts options, binaries map[string]string) error {
	if err := os.RemoveAll(opts.out); err != nil {
		return err
	}
	blobs := filepath.Join(opts.out, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	put := func(mediaType string, data []byte) (descriptor, error) {
		sum := sha256.Sum256(data)
		d := descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
		return d, os.WriteFile(filepath.Join(blobs, hex.EncodeToString(sum[:])), data, 0o644)
	}
	putJSON := func(mediaType string, v any) (descriptor, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return descriptor{}, err
		}
		return put(mediaType, b)
	}
	annotations := map[string]string{
		"org.opencontainers.image.title":         "vigil",
		"org.opencontainers.image.description":   "eBPF exec sensor: detection recipes, reported as OpenTelemetry",
		"org.opencontainers.image.source":        "https://github.com/vigil-otel/vigil",
		"org.opencontainers.image.documentation": "https://github.com/vigil-otel/vigil/blob/main/docs/install.md",
		"org.opencontainers.image.version":       opts.version,
		"org.opencontainers.image.revision":      opts.revision,
		"org.opencontainers.image.created":       opts.created.Format(time.RFC3339),
	}

	var manifests []descriptor
	for _, arch := range opts.arches {
		layer, diffID, err := rootfsLayer(binaries[arch], opts.created)
		if err != nil {
			return fmt.Errorf("%s layer: %w", arch, err)
		}
		layerDesc, err := put(mediaLayer, layer)
		if err != nil {
			return err
		}
		config := map[string]any{
			"architecture": arch,
			"os":           "linux",
			"created":      opts.created.Format(time.RFC3339),
			"config": map[string]any{
				"Entrypoint": []string{"/" + binaryPath},
				"Cmd":        []string{"run"},
				"WorkingDir": "/",
				"Labels":     annotations,
			},
			"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
			"history": []map[string]string{{"created": opts.created.Format(time.RFC3339), "created_by": "go run ./packaging/image"}},
		}
		configDesc, err := putJSON(mediaConfig, config)
		if err != nil {
			return err
		}
		manifestDesc, err := putJSON(mediaManifest, map[string]any{
			"schemaVersion": 2,
			"mediaType":     mediaManifest,
			"config":        configDesc,
			"layers":        []descriptor{layerDesc},
			"annotations":   annotations,
		})
		if err != nil {
			return err
		}
		manifestDesc.Platform = &platform{Architecture: arch, OS: "linux"}
		manifests = append(manifests, manifestDesc)
	}
	indexDesc, err := putJSON(mediaIndex, map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaIndex,
		"manifests":     manifests,
		"annotations":   annotations,
	})
	if err != nil {
		return err
	}
	indexDesc.Annotations = map[string]string{"org.opencontainers.image.ref.name": opts.version}
	top, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaIndex, "manifests": []descriptor{indexDesc}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(opts.out, "index.json"), top, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(opts.out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// rootfsLayer returns the gzip layer that holds vigil and the folders it
// uses, and its diff id (the digest of the uncompressed tar).
func rootfsLayer(binary string, mtime time.Time) (layer []byte, diffID string, err error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, "", err
	}
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: mtime, Format: tar.FormatPAX})
	}
	// Parents first, in name order; /tmp for the Go runtime and the
	// resource detectors, sticky as everywhere.
	for _, d := range []struct {
		name string
		mode int64
	}{{"etc", 0o755}, {"etc/vigil", 0o755}, {recipesDir, 0o755}, {"tmp", 0o1777}, {"usr", 0o755}, {"usr/bin", 0o755}} {
		if err := dir(d.name, d.mode); err != nil {
			return nil, "", err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: binaryPath, Mode: 0o755, Size: int64(len(bin)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
		return nil, "", err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, "", err
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw.Bytes())
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, "", err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), "sha256:" + hex.EncodeToString(sum[:]), nil
}

// writeArchive writes the layout folder as one tar file (an OCI archive,
// what podman load and skopeo's oci-archive: read), files in name order
// with the commit's time.
func writeArchive(layout, archive string, mtime time.Time) error {
	var files []string
	err := filepath.WalkDir(layout, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != layout {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(files)
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, path := range files {
		info, err := os.Stat(path)
		if err != nil {
			return errors.Join(err, f.Close())
		}
		name, _ := filepath.Rel(layout, path)
		hdr := &tar.Header{Name: filepath.ToSlash(name), Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}
		if info.IsDir() {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
		} else {
			hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return errors.Join(err, f.Close())
		}
		if !info.IsDir() {
			if err := copyInto(tw, path); err != nil {
				return errors.Join(err, f.Close())
			}
		}
	}
	return errors.Join(tw.Close(), f.Close())
}

func copyInto(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
