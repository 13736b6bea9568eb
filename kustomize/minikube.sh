#!/usr/bin/env bash
# make deploy-minikube / make undeploy-minikube.
#
#   kustomize/minikube.sh deploy     build the image into minikube, apply the overlay, wait, print URLs
#   kustomize/minikube.sh undeploy   delete everything the overlay created, database volume included
#   kustomize/minikube.sh secret     only write the overlay's database.env (if it is missing)
#
# JAEGER=1 uses overlays/minikube-jaeger (the same plus Jaeger all-in-one).
# kubectl always targets minikube's own context, whatever the current context is.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
namespace=config-service
image=config-service:dev
secret_env=$here/overlays/minikube/database.env
overlay=$here/overlays/minikube
if [[ ${JAEGER:-0} == 1 ]]; then overlay=$here/overlays/minikube-jaeger; fi

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if ((${#missing[@]})); then
    echo "error: ${missing[*]} not found on PATH. make deploy-minikube needs minikube and kubectl:" >&2
    echo "  minikube: https://minikube.sigs.k8s.io/docs/start/" >&2
    echo "  kubectl:  https://kubernetes.io/docs/tasks/tools/ (or: alias kubectl='minikube kubectl --')" >&2
    exit 1
  fi
}

# A random password, written once: PostgreSQL keeps the password it was initialised with, so
# later deploys must reuse it. Never committed (.gitignore), readable only by you.
write_secret() {
  [[ -s $secret_env ]] && return 0
  local password
  password=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
  (
    umask 077
    printf 'POSTGRES_PASSWORD=%s\nDATABASE_URL=postgres://configs:%s@postgres:5432/configs\n' \
      "$password" "$password" >"$secret_env"
  )
  echo "wrote a new PostgreSQL password to ${secret_env#"$root"/}"
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
  local url jaeger
  url=$(minikube service "$namespace" --profile "$profile" --namespace "$namespace" --url)
  url=${url%%$'\n'*} # one port, one line; keep only the first in any case
  echo "Service URL: $url"
  echo "Swagger UI:  $url/swagger"
  echo "Metrics:     $url/metrics"
  if [[ ${JAEGER:-0} == 1 ]]; then
    jaeger=$(minikube service jaeger-ui --profile "$profile" --namespace "$namespace" --url)
    echo "Jaeger UI:   ${jaeger%%$'\n'*}"
  fi
}

deploy() {
  need minikube kubectl
  local profile
  profile=$(running_profile)
  local kc=(kubectl --context "$profile")
  write_secret

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
  need minikube kubectl
  local profile
  profile=$(running_profile)
  # The overlay needs database.env to render; its content does not matter for deleting.
  write_secret
  # The Jaeger overlay holds everything the plain one does, so deleting it removes either.
  kubectl --context "$profile" delete -k "$here/overlays/minikube-jaeger" --ignore-not-found --wait=true
}

case ${1:-} in
  deploy) deploy ;;
  undeploy) undeploy ;;
  secret) write_secret ;;
  *)
    echo "usage: $0 deploy|undeploy|secret" >&2
    exit 64
    ;;
esac
