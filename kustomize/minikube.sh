#!/usr/bin/env bash
# make deploy-minikube / make undeploy-minikube.
#
#   kustomize/minikube.sh deploy     build the image into minikube, apply the overlay, wait, print URLs
#   kustomize/minikube.sh undeploy   delete everything the overlay created, database volume included
#
# JAEGER=1 uses overlays/minikube-jaeger (the same plus Jaeger all-in-one); MONITORING=1 uses
# overlays/minikube-monitoring (the same plus the monitoring component; needs the Prometheus
# Operator's CRDs, see docs/KUBERNETES.md). The overlays need nothing generated: `kubectl apply -k` works alone.
# kubectl always targets minikube's own context, whatever the current context is.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
namespace=config-service
image=config-service:dev
legacy_env=$here/overlays/minikube/database.env
overlay=$here/overlays/minikube
if [[ ${JAEGER:-0} == 1 && ${MONITORING:-0} == 1 ]]; then
  echo "error: JAEGER=1 and MONITORING=1 are separate overlays; choose one" >&2
  exit 64
fi
if [[ ${JAEGER:-0} == 1 ]]; then overlay=$here/overlays/minikube-jaeger; fi
if [[ ${MONITORING:-0} == 1 ]]; then overlay=$here/overlays/minikube-monitoring; fi

need_minikube() {
  if ! command -v minikube >/dev/null 2>&1; then
    echo "error: minikube not found on PATH. make deploy-minikube needs minikube:" >&2
    echo "  minikube: https://minikube.sigs.k8s.io/docs/start/" >&2
    exit 1
  fi
}

# Without a kubectl on PATH, minikube's own (`minikube kubectl --`, fetched by minikube on first
# use). An alias would not do: a script sees no alias of the shell that started it.
kubectl_command() {
  if command -v kubectl >/dev/null 2>&1; then
    kc=(kubectl)
  else
    echo "note: kubectl not found on PATH: using minikube's (minikube kubectl --)" >&2
    kc=(minikube kubectl --)
  fi
}

# Earlier versions wrote a random password there; a PostgreSQL volume initialised with it keeps it.
note_legacy_password() {
  [[ -e $legacy_env ]] || return 0
  echo "note: ${legacy_env#"$root"/} is no longer read (the overlay's password is committed)." >&2
  echo "      If the pods cannot log in to PostgreSQL, its volume still has the old password:" >&2
  echo "      run make undeploy-minikube once (it deletes the database), then deploy again." >&2
}

running_profile() {
  local profile
  profile=$(minikube profile 2>/dev/null | tail -n 1) || true
  if [[ -z $profile ]] || ! minikube status --profile "$profile" >/dev/null 2>&1; then
    echo "error: minikube is not running. Start it with: minikube start" >&2
    exit 1
  fi
  echo "$profile"
}

print_urls() {
  local profile=$1
  # With the Docker driver on macOS or Windows, `minikube service --url` has to keep a tunnel
  # open and would block here, so it is left to the user there.
  if [[ $(uname -s) != Linux ]]; then
    echo "Service URL: run  minikube service $namespace --namespace $namespace --url  (keep it open)"
    echo "Swagger UI:  <that URL>/swagger"
    return
  fi
  local urls url metrics jaeger
  # One line per Service port, in their order: http, then metrics when the overlay has it.
  urls=$(minikube service "$namespace" --profile "$profile" --namespace "$namespace" --url)
  url=${urls%%$'\n'*}
  metrics=$url
  if [[ $urls == *$'\n'* ]]; then metrics=$(sed -n 2p <<<"$urls"); fi
  echo "Service URL: $url"
  echo "Swagger UI:  $url/swagger"
  echo "Metrics:     $metrics/metrics"
  echo "Smoke test:  make smoke URL=$url"
  if [[ ${JAEGER:-0} == 1 ]]; then
    jaeger=$(minikube service jaeger-ui --profile "$profile" --namespace "$namespace" --url)
    echo "Jaeger UI:   ${jaeger%%$'\n'*}"
  fi
}

deploy() {
  need_minikube
  local profile kc
  profile=$(running_profile)
  kubectl_command
  kc+=(--context "$profile")
  note_legacy_password

  echo "building $image inside minikube"
  (cd "$root" && minikube image build --profile "$profile" -t "$image" .)

  local existed=0
  "${kc[@]}" --namespace "$namespace" get deployment/config-service >/dev/null 2>&1 && existed=1
  "${kc[@]}" apply -k "$overlay"
  # Same tag, new image: an unchanged Deployment would keep the old pods.
  if ((existed)); then "${kc[@]}" --namespace "$namespace" rollout restart deployment/config-service; fi

  "${kc[@]}" --namespace "$namespace" rollout status statefulset/postgres --timeout=300s
  "${kc[@]}" --namespace "$namespace" rollout status deployment/config-service --timeout=300s
  if [[ ${JAEGER:-0} == 1 ]]; then
    "${kc[@]}" --namespace "$namespace" rollout status deployment/jaeger --timeout=300s
  fi
  print_urls "$profile"
}

undeploy() {
  need_minikube
  local profile kc
  profile=$(running_profile)
  kubectl_command
  # The Jaeger overlay holds everything the plain one does, so deleting it removes either; the
  # monitoring objects go with the namespace.
  "${kc[@]}" --context "$profile" delete -k "$here/overlays/minikube-jaeger" --ignore-not-found --wait=true
}

case ${1:-} in
  deploy) deploy ;;
  undeploy) undeploy ;;
  *)
    echo "usage: $0 deploy|undeploy" >&2
    exit 64
    ;;
esac
