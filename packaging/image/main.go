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
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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
