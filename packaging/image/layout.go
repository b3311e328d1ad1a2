package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The OCI image layout: per architecture a layer of vigil and its folders,
// its config and manifest, then the image index that names them all.

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
