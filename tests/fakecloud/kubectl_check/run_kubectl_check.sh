#!/usr/bin/env bash
# kubectl (client-go: discovery, TLS against the kubeconfig's CA, a bearer token, Status errors)
# against fakecloud's Kubernetes API: create a pod, list it by label selector, read its phase,
# delete it; create, read, list and delete a PersistentVolumeClaim; and the errors for a missing
# pod or claim, a bad token and a forbidden namespace.
# Usage: run_kubectl_check.sh FAKECLOUD_BINARY. Exit 77 (skipped) without `kubectl`.
set -euo pipefail
fakecloud=$1
if ! command -v kubectl >/dev/null; then
  echo "SKIP: kubectl is not installed (Debian: apt-get install kubernetes-client)"
  exit 77
fi
# shellcheck source=../start_fakecloud.sh
. "$(dirname "$0")/../start_fakecloud.sh"
kdir=$(mktemp -d /tmp/kubectl-check.XXXXXX)
start_fakecloud "$fakecloud" --kube-config "$kdir/kubeconfig" --kube-token check-token-0123456789
trap 'kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir" "$kdir"' EXIT
export HOME=$kdir
kc() { kubectl --kubeconfig "$kdir/kubeconfig" --cache-dir "$kdir/kube-cache" "$@"; }
expect() {  # NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: expected '$2', got '$3'"; tail -n 30 "$dir/fakecloud.log"; exit 1
  fi
  echo "ok: $1 = $3"
}
cat >"$kdir/pod.json" <<'POD'
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "check-0", "labels": {"skyd-cluster": "check", "skyd-rank": "0"}},
 "spec": {"restartPolicy": "Never",
          "containers": [{"name": "node", "image": "busybox", "command": ["sleep", "600"]}]}}
POD
expect "create" "pod/check-0 created" "$(kc create --validate=false -f "$kdir/pod.json" 2>&1)"
expect "create again" 'Error from server (AlreadyExists): error when creating "'"$kdir"'/pod.json": pods "check-0" already exists' \
  "$(kc create --validate=false -f "$kdir/pod.json" 2>&1 || true)"
expect "list by label" "pod/check-0" "$(kc get pods -n default -l skyd-cluster=check -o name)"
expect "list by another label" "" "$(kc get pods -n default -l skyd-cluster=other -o name)"
expect "list by two labels" "pod/check-0" \
  "$(kc get pods -n default -l 'skyd-cluster=check,skyd-rank!=1' -o name)"
for _ in $(seq 50); do
  phase=$(kc get pod check-0 -n default -o 'jsonpath={.status.phase}')
  [ "$phase" = Running ] && break
  sleep 0.1
done
expect "phase" "Running" "$phase"
expect "pod IP" "127.0.0.1" "$(kc get pod check-0 -n default -o 'jsonpath={.status.podIP}')"
expect "delete" 'pod "check-0" deleted' "$(kc delete pod check-0 -n default --wait=false 2>&1)"
for _ in $(seq 50); do
  gone=$(kc get pods -n default -l skyd-cluster=check -o name)
  [ -z "$gone" ] && break
  sleep 0.1
done
expect "listed after delete" "" "$gone"
expect "get a deleted pod" 'Error from server (NotFound): pods "check-0" not found' \
  "$(kc get pod check-0 -n default 2>&1 || true)"
expect "a forbidden namespace" "Error from server (Forbidden)" \
  "$(kc get pods -n kube-system 2>&1 | sed -n 's/^\(Error from server (Forbidden)\).*/\1/p' | head -1)"
cat >"$kdir/claim.json" <<'CLAIM'
{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
 "metadata": {"name": "check-claim", "labels": {"skyd-controller": "check"}},
 "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}}
CLAIM
expect "create a claim" "persistentvolumeclaim/check-claim created" \
  "$(kc create --validate=false -f "$kdir/claim.json" 2>&1)"
expect "claim phase" "Bound" "$(kc get pvc check-claim -n default -o 'jsonpath={.status.phase}')"
expect "claim capacity" "1Gi" \
  "$(kc get pvc check-claim -n default -o 'jsonpath={.status.capacity.storage}')"
expect "list claims" "persistentvolumeclaim/check-claim" "$(kc get pvc -n default -o name)"
expect "delete a claim" 'persistentvolumeclaim "check-claim" deleted' \
  "$(kc delete pvc check-claim -n default --wait=false 2>&1)"
expect "get a deleted claim" \
  'Error from server (NotFound): persistentvolumeclaims "check-claim" not found' \
  "$(kc get pvc check-claim -n default 2>&1 || true)"
sed 's/token: .*/token: not-the-token/' "$kdir/kubeconfig" >"$kdir/bad-kubeconfig"
expect "a bad token" "error: You must be logged in to the server" \
  "$(kubectl --kubeconfig "$kdir/bad-kubeconfig" --cache-dir "$kdir/bad-cache" get pods -n default 2>&1 |
       grep -o 'error: You must be logged in to the server' | head -1)"
echo "kubectl check passed"
