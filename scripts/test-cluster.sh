#!/bin/bash
# test-cluster.sh - the Kubernetes test cluster of Pilotage: a REAL kube-apiserver v1.20.2 (built once from Debian's own
# `kubernetes` source package and cached outside the repo) with Debian's etcd 3.4, plus the podman-backed stand-in for
# what cannot run here (scheduler, kubelet, volume provisioner: packages/engine/test/support/k8s-stand-in/).
# Needs only Debian's apt repositories. Adapted from the project's recipe (../shared/k8s/k8s-local.sh).
#
# Usage: test-cluster.sh up       # build (cached) + PKI + etcd + kube-apiserver + stand-in; waits until ready; prints env
#        test-cluster.sh down     # stop what `up` started (by pid file); the stand-in removes its containers
#        test-cluster.sh env      # print `export KUBECONFIG=...` etc. for eval
#        test-cluster.sh status   # exit 0 when the API server and the stand-in are running
#        test-cluster.sh build    # only build (apt deps, kubectl, kube-apiserver binary)
# Env:   K8S        state dir (pki, pids, logs, etcd data, source tree)   default ${XDG_CACHE_HOME:-$HOME/.cache}/pilotage-k8s
#        K8S_CACHE  what a CI job should cache between runs (binaries, source tarball, GOCACHE)  default $K8S/cache
#        K8S_TAGS   extra go build tags; default "providerless" (drops in-tree cloud providers); K8S_TAGS= for a full build
#        K8S_CLEAN=1         delete source tree + GOCACHE after a successful build (saves ~1.4 GB)
#        ports: ETCD_PORT=23790 ETCD_PEER_PORT=23791 ETCD_METRICS_PORT=23792 APISERVER_PORT=26443 KUBELET_PORT=20250
#        ETCD_DATA  default $K8S/etcd-data (use /dev/shm/... for speed); wiped by `up` unless K8S_KEEP_DATA=1
#        K8S_AUTHZ  --authorization-mode (default RBAC; the admin token user is in system:masters)
#        K8S_APISERVER_ARGS  extra kube-apiserver flags
# The API server runs with --watch-cache=false and --min-request-timeout=5: watches end every 5-10 s and resume from
# their resourceVersion, and an `etcdctl compact` makes such a resume answer 410 Gone (the tests' re-list case).
set -euo pipefail
K8S=${K8S:-${XDG_CACHE_HOME:-$HOME/.cache}/pilotage-k8s}
K8S_CACHE=${K8S_CACHE:-$K8S/cache}
KVER=1.20.2
ETCD_PORT=${ETCD_PORT:-23790}; ETCD_PEER_PORT=${ETCD_PEER_PORT:-23791}; ETCD_METRICS_PORT=${ETCD_METRICS_PORT:-23792}
APISERVER_PORT=${APISERVER_PORT:-26443}; KUBELET_PORT=${KUBELET_PORT:-20250}
NODE_NAME=${NODE_NAME:-pilotage-stand-in}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAND_IN=$REPO/packages/engine/test/support/k8s-stand-in/main.ts
ETCD_DATA=${ETCD_DATA:-$K8S/etcd-data}
TOKEN=${K8S_TOKEN:-test-token-123}
K8S_TAGS=${K8S_TAGS-providerless}   # default: drop in-tree cloud providers (59 MB instead of 105 MB, ~2.5x faster build)
TAGSUFFIX=${K8S_TAGS:+-${K8S_TAGS//,/-}}
BIN=$K8S_CACHE/bin/kube-apiserver-v$KVER$TAGSUFFIX
KUBECTL=$K8S_CACHE/bin/kubectl
SRC=$K8S/gopath/src/k8s.io/kubernetes
PKI=$K8S/pki
log() { echo "[test-cluster $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }
t0() { T0=$(date +%s.%N); }
dt() { log "$1 took $(echo "$(date +%s.%N) - $T0" | bc -l | xargs printf %.1f) s"; }

apt_deps() {  # apt_deps pkg...: install what is missing
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  t0; log "apt-get install ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # on a systemd host the etcd-server package starts its own etcd on 2379: stop it
  if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then systemctl disable --now etcd; fi
  dt "apt-get install"
}

apt_src_opts() {  # private apt config with deb-src enabled; /etc/apt is not touched
  local a=$K8S/apt-src; mkdir -p $a/lists/partial $a/parts
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources > $a/parts/debian.sources
  else
    grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed 's/^deb /deb-src /' > $a/parts/debian.list
  fi
  echo "-o Dir::Etc::SourceParts=$a/parts -o Dir::Etc::SourceList=/dev/null -o Dir::State::Lists=$a/lists -o APT::Sandbox::User=root"
}

get_kubectl() {  # Debian's kubectl 1.20 (same version as the server), extracted, so it cannot clash with another /usr/bin/kubectl
  [ -x "$KUBECTL" ] && return
  t0; mkdir -p $K8S_CACHE/debs $K8S_CACHE/bin
  (cd $K8S_CACHE/debs && { apt-get -o APT::Sandbox::User=root download kubernetes-client >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get -o APT::Sandbox::User=root download kubernetes-client >/dev/null; }; })
  dpkg-deb -x $K8S_CACHE/debs/kubernetes-client_*.deb $K8S_CACHE/debs/kc && ln -sfn $K8S_CACHE/debs/kc/usr/bin/kubectl "$KUBECTL"
  dt "kubectl download"
}

get_source() {
  ls $K8S_CACHE/src/kubernetes_*.orig.tar.gz >/dev/null 2>&1 && return
  t0; mkdir -p $K8S_CACHE/src; local o; o=$(apt_src_opts)
  apt-get $o update -qq
  (cd $K8S_CACHE/src && apt-get $o source --download-only kubernetes >/dev/null)   # ~34 MB, has vendor/
  dt "source download"
}

prepare_source() {
  [ -f $K8S/kubernetes-$KVER/.prepared ] && return
  get_source
  t0; rm -rf $K8S/kubernetes-$KVER; tar xzf $K8S_CACHE/src/kubernetes_*.orig.tar.gz -C $K8S; dt "unpack"
  # fix 1: vendored reflect2 v1.0.1 segfaults at runtime with Go >= 1.18 -> use Debian's v1.0.2 source
  local r=$K8S/kubernetes-$KVER/vendor/github.com/modern-go/reflect2
  rm -f $r/*.go $r/*.s && cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s $r/
  # fix 2: module/vendor mode fails with Go 1.19 ("updates to go.mod needed") -> GOPATH mode, like k8s 1.20's hack/
  mkdir -p $K8S/gopath/src/k8s.io && ln -sfn $K8S/kubernetes-$KVER $SRC
  # fix 3: pkg/generated/openapi/zz_generated.openapi.go is not in the tarball -> generate it
  t0; gen_openapi; dt "openapi-gen"
  touch $K8S/kubernetes-$KVER/.prepared
}

goenv() { export GOPATH=$K8S/gopath GOCACHE=$K8S_CACHE/gocache GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=0; }

gen_openapi() {  # mimics the KUBE openapi target of Makefile.generated_files
  ( goenv; cd $SRC; mkdir -p _output/tools
  go build -o _output/tools/openapi-gen ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  local dirs; dirs=$(find -H . \( -not \( \( -path ./_\* -o -path ./.\* -o -path ./vendor -o -path ./debian \) -prune \) \) -type f -name '*.go' \
    | xargs grep --color=never -l '^// *+k8s:' | xargs grep --color=never -l '+k8s:openapi-gen=' \
    | xargs -n1 dirname | sed 's|^./staging/src|vendor|; s|^./||' \
    | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' | LC_ALL=C sort -u \
    | sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)
  _output/tools/openapi-gen --logtostderr -i "$dirs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r _output/tools/violations.report 2>_output/tools/openapi-gen.log
  # sanity check: API-rule violations must equal upstream's list (else the generated spec differs from upstream's)
  cmp -s <(LC_ALL=C sort _output/tools/violations.report) <(LC_ALL=C sort api/api-rules/violation_exceptions.list) \
    || log "WARN: openapi violations differ from api/api-rules/violation_exceptions.list"
  test -s pkg/generated/openapi/zz_generated.openapi.go )
}

go_build() {  # only cmd/kube-apiserver; version vars as upstream's hack/lib/version.sh would set them
  ( goenv; cd $SRC
  local ldf="-s -w" v
  for v in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $v.gitVersion=v$KVER -X $v.gitMajor=1 -X $v.gitMinor=20 -X $v.gitTreeState=archive"
    ldf="$ldf -X $v.gitCommit=faecb196815e248d3ecfb03c680a4507229c2a56 -X $v.buildDate=2021-01-13T00:00:00Z"
  done
  mkdir -p "$(dirname "$BIN")"
  go build -trimpath -tags "selinux,notest${K8S_TAGS:+,$K8S_TAGS}" -ldflags "$ldf" -o "$BIN.tmp" ./cmd/kube-apiserver
  mv "$BIN.tmp" "$BIN" )
}

build() {
  apt_deps etcd-server etcd-client openssl curl bc          # runtime deps (a cached binary needs no Go toolchain)
  get_kubectl
  [ -x "$BIN" ] && { log "cached $BIN"; return; }
  apt_deps golang-go golang-github-modern-go-reflect2-dev   # build deps (Go 1.19)
  prepare_source
  t0; go_build
  dt "go build kube-apiserver ($(du -m "$BIN" | cut -f1) MB)"
  if [ "${K8S_CLEAN:-0}" = 1 ]; then rm -rf $K8S/kubernetes-$KVER $K8S/gopath $K8S_CACHE/gocache; fi
}

pki() {
  [ -f $PKI/tokens.csv ] && return
  mkdir -p $PKI; (
  cd $PKI; set -e
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=test-ca" -days 3650 -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr 2>/dev/null
  printf "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth,clientAuth\n" > apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -subj "/CN=admin/O=system:masters" -out admin.csr 2>/dev/null
  printf "extendedKeyUsage=clientAuth\n" > admin.ext
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile admin.ext -out admin.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  echo "$TOKEN,admin,admin-uid,system:masters" > tokens.csv
  echo "test-user-token,test-user,test-user-uid,test-group" >> tokens.csv   # unprivileged user, for RBAC tests
  )
}

kubeconfig() {
  cat > $K8S/kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$PKI/ca.crt"}
users:
- name: admin-token
  user: {token: "$TOKEN"}
- name: admin-cert
  user: {client-certificate: "$PKI/admin.crt", client-key: "$PKI/admin.key"}
- name: test-user
  user: {token: "test-user-token"}
contexts:
- name: local
  context: {cluster: local, user: admin-token, namespace: default}
- name: local-cert
  context: {cluster: local, user: admin-cert, namespace: default}
- name: test-user
  context: {cluster: local, user: test-user, namespace: default}
current-context: local
EOF
}

port_free() { ! ss -ltnH "sport = :$1" | grep -q .; }
wait_for() {  # wait_for <seconds> <cmd...>
  local n=$(( $1 * 10 )); shift
  until "$@" >/dev/null 2>&1; do n=$((n-1)); [ $n -gt 0 ] || return 1; sleep 0.1; done
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
status() { running $K8S/apiserver.pid && running $K8S/etcd.pid && running $K8S/stand-in.pid; }

up() {
  mkdir -p $K8S
  # one `up` at a time (test files may ask concurrently); the others wait, then find it running
  exec 9>$K8S/up.lock; flock 9
  build; pki; kubeconfig
  if status; then log "already running"; env_out; return; fi
  down_quiet
  local p; for p in $ETCD_PORT $ETCD_PEER_PORT $ETCD_METRICS_PORT $APISERVER_PORT $KUBELET_PORT; do port_free $p || { log "port $p busy"; exit 1; }; done
  t0; local T_UP=$T0
  [ "${K8S_KEEP_DATA:-0}" = 1 ] || rm -rf "$ETCD_DATA"; mkdir -p "$ETCD_DATA"; chmod 700 "$ETCD_DATA"
  nohup etcd --name k8s-local --data-dir "$ETCD_DATA" \
    --listen-client-urls http://127.0.0.1:$ETCD_PORT --advertise-client-urls http://127.0.0.1:$ETCD_PORT \
    --listen-peer-urls http://127.0.0.1:$ETCD_PEER_PORT --initial-advertise-peer-urls http://127.0.0.1:$ETCD_PEER_PORT \
    --initial-cluster k8s-local=http://127.0.0.1:$ETCD_PEER_PORT --listen-metrics-urls http://127.0.0.1:$ETCD_METRICS_PORT \
    > $K8S/etcd.log 2>&1 9>&- &
  echo $! > $K8S/etcd.pid
  wait_for 30 curl -sf http://127.0.0.1:$ETCD_PORT/health || { tail -20 $K8S/etcd.log; exit 1; }
  dt "etcd ready"
  t0
  # shellcheck disable=SC2086
  nohup "$BIN" --etcd-servers=http://127.0.0.1:$ETCD_PORT \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=$APISERVER_PORT \
    --tls-cert-file=$PKI/apiserver.crt --tls-private-key-file=$PKI/apiserver.key \
    --client-ca-file=$PKI/ca.crt --token-auth-file=$PKI/tokens.csv \
    --kubelet-client-certificate=$PKI/apiserver.crt --kubelet-client-key=$PKI/apiserver.key \
    --service-account-key-file=$PKI/sa.pub --service-account-signing-key-file=$PKI/sa.key \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=${K8S_AUTHZ:-RBAC} \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true --watch-cache=false --min-request-timeout=5 ${K8S_APISERVER_ARGS:-} \
    > $K8S/apiserver.log 2>&1 9>&- &
  echo $! > $K8S/apiserver.pid
  wait_for 120 sh -c "[ \"\$(curl -s --cacert $PKI/ca.crt -H 'Authorization: Bearer $TOKEN' https://127.0.0.1:$APISERVER_PORT/readyz)\" = ok ]" \
    || { tail -30 $K8S/apiserver.log; exit 1; }
  dt "kube-apiserver /readyz ok"
  t0
  # (the subshell execs into node, so $! is node's pid; node resolves tsx from the repo)
  ( cd "$REPO" && KUBECONFIG=$K8S/kubeconfig K8S_PKI=$PKI NODE_NAME=$NODE_NAME KUBELET_PORT=$KUBELET_PORT \
      STAND_IN_STATE=$K8S/stand-in exec nohup node --import tsx "$STAND_IN" ) > $K8S/stand-in.log 2>&1 9>&- &
  echo $! > $K8S/stand-in.pid
  wait_for 60 grep -q "ready" $K8S/stand-in.log || { tail -30 $K8S/stand-in.log; exit 1; }
  dt "stand-in (scheduler, kubelet, provisioner) ready"
  T0=$T_UP; dt "up (etcd start -> cluster ready)"
  env_out
}

down_quiet() {  # stop by pid file, the stand-in first (it removes its containers on SIGTERM)
  local f pid
  for f in $K8S/stand-in.pid $K8S/apiserver.pid $K8S/etcd.pid; do
    [ -f $f ] || continue; pid=$(cat $f)
    if kill -0 $pid 2>/dev/null; then kill $pid; for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; fi
    kill -0 $pid 2>/dev/null && kill -9 $pid
    rm -f $f
  done
}
down() { mkdir -p $K8S; exec 9>$K8S/up.lock; flock 9; down_quiet; }

env_out() {
  echo "export KUBECONFIG=$K8S/kubeconfig K8S_TOKEN=$TOKEN K8S_CA=$PKI/ca.crt K8S_SERVER=https://127.0.0.1:$APISERVER_PORT" \
    "ETCDCTL_API=3 ETCDCTL_ENDPOINTS=http://127.0.0.1:$ETCD_PORT K8S_NODE=$NODE_NAME K8S_STATE=$K8S PATH=$K8S_CACHE/bin:\$PATH"
}

case "${1:-up}" in
  build) build ;; up) up ;; down) down ;; env) env_out ;; status) status ;; pki) pki; kubeconfig ;;
  *) echo "usage: $0 build|up|down|env|status" >&2; exit 2 ;;
esac
