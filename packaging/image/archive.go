package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The layout as one tar file, for the tools that load an OCI archive.

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
