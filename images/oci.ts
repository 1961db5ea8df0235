/**
 * An OCI image layout (oci-layout, index.json, blobs/sha256/…) for one image, archived as one
 * tar: what `skopeo copy oci-archive:…`, `umoci unpack` and `ctr import` read. The config and
 * manifest are JSON with a fixed key order and no timestamps but the epoch, so the digest
 * depends only on the layers and the metadata passed in.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256, writeTar, type Layer } from "./layer.js";

export interface ImageConfig {
  user: string;
  env: string[];
  entrypoint: string[];
  workingDir: string;
  labels: Record<string, string>;
  ports: number[];
}

export interface BuiltImage {
  /** The manifest's digest: what a pod names as image@digest. */
  digest: string;
  /** Uncompressed bytes of all layers. */
  sizeBytes: number;
  compressedBytes: number;
}

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
};

/** Writes the layout archive `file`; `tag` names the image in index.json, `ref` its full name. */
export function writeImageArchive(file: string, layers: Layer[], config: ImageConfig, tag: string, ref: string): BuiltImage {
  const configJson = JSON.stringify({
    created: "1970-01-01T00:00:00Z",
    architecture: "amd64",
    os: "linux",
    config: {
      User: config.user,
      Env: config.env,
      Entrypoint: config.entrypoint,
      WorkingDir: config.workingDir,
      ExposedPorts: Object.fromEntries(config.ports.map((p) => [`${p}/tcp`, {}])),
      Labels: config.labels,
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  });
  const configBlob = Buffer.from(configJson);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: sha256(configBlob), size: configBlob.length },
      layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.blob.length })),
      annotations: config.labels,
    }),
  );
  const digest = sha256(manifest);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [
      {
        mediaType: MEDIA.manifest,
        digest,
        size: manifest.length,
        annotations: { "io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag },
      },
    ],
  });

  const dir = `${file}.layout-${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const blob = (d: string, data: Buffer) => writeFileSync(join(dir, "blobs", "sha256", d.slice("sha256:".length)), data);
  for (const l of layers) blob(l.digest, l.blob);
  blob(sha256(configBlob), configBlob);
  blob(digest, manifest);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(join(dir, "index.json"), index);
  try {
    writeTar(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    digest,
    sizeBytes: layers.reduce((n, l) => n + l.size, 0),
    compressedBytes: layers.reduce((n, l) => n + l.blob.length, 0),
  };
}
