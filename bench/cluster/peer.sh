#!/bin/bash
# The peer: the same host-side cluster setup done by hand, kubernetes-the-hard-way style, with
# openssl, kubectl config, ip, iptables and mkdir; then etcd started and polled until /health answers.
# usage: peer.sh up|down DIR ID BRIDGE_CIDR_BASE(e.g. 172.29.7) ETCD_CLIENT_PORT ETCD_PEER_PORT
set -euo pipefail
cmd=$1 D=$2 ID=$3 NET=$4 CP=$5 PP=$6
BR=skp$ID
cgroups() { awk '$9 ~ /^cgroup2?$/ {print $5}' /proc/self/mountinfo; }
if [ "$cmd" = down ]; then
  [ -f "$D/etcd.pid" ] && kill -9 "$(cat "$D/etcd.pid")" 2>/dev/null || true
  sleep 0.05
  for i in 0 1 2; do ip netns del "skp-$ID-$i" 2>/dev/null || true; done
  ip link del "$BR" 2>/dev/null || true
  iptables -w -t nat -D POSTROUTING -j "SIFKUBE-P$ID-NAT" 2>/dev/null || true
  iptables -w -D FORWARD -j "SIFKUBE-P$ID-FWD" 2>/dev/null || true
  iptables -w -t nat -F "SIFKUBE-P$ID-NAT" 2>/dev/null && iptables -w -t nat -X "SIFKUBE-P$ID-NAT" || true
  iptables -w -F "SIFKUBE-P$ID-FWD" 2>/dev/null && iptables -w -X "SIFKUBE-P$ID-FWD" || true
  for m in $(cgroups); do [ -d "$m/sifkube-peer-$ID" ] && find "$m/sifkube-peer-$ID" -depth -type d -exec rmdir {} \; ; done
  umount "$D" 2>/dev/null || true
  exit 0
fi
mkdir -p "$D" && mount -t tmpfs -o mode=0700 "sifkube-peer-$ID" "$D" && cd "$D" && mkdir pki kc
cd pki
ca() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"; openssl req -x509 -new -key "$1.key" -subj "/CN=$1" -days 3650 -out "$1.crt" 2>/dev/null; }
leaf() { # name ca subject ext
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
  openssl req -new -key "$1.key" -subj "$3" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 365 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
kc() { # file user
  kubectl config set-cluster c --server="https://$NET.2:6443" --certificate-authority=ca.crt --embed-certs --kubeconfig="../kc/$1" >/dev/null
  kubectl config set-credentials "$2" --client-certificate="$2.crt" --client-key="$2.key" --embed-certs --kubeconfig="../kc/$1" >/dev/null
  kubectl config set-context c --cluster=c --user="$2" --kubeconfig="../kc/$1" >/dev/null
  kubectl config use-context c --kubeconfig="../kc/$1" >/dev/null
}
CLIENT='extendedKeyUsage=clientAuth'
ca ca; ca front-proxy-ca
openssl ecparam -name prime256v1 -genkey -noout -out sa.key; openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
leaf apiserver ca /CN=kube-apiserver "extendedKeyUsage=serverAuth
subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:10.96.0.1,IP:$NET.2,IP:$NET.1,IP:127.0.0.1"
leaf apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" "$CLIENT"
leaf front-proxy-client front-proxy-ca /CN=front-proxy-client "$CLIENT"
leaf admin ca "/O=system:masters/CN=kubernetes-admin" "$CLIENT"; kc admin.conf admin
leaf controller-manager ca /CN=system:kube-controller-manager "$CLIENT"; kc controller-manager.conf controller-manager
leaf scheduler ca /CN=system:kube-scheduler "$CLIENT"; kc scheduler.conf scheduler
leaf kube-proxy ca /CN=system:kube-proxy "$CLIENT"; kc kube-proxy.conf kube-proxy
for i in 0 1 2; do
  leaf "node$i" ca "/O=system:nodes/CN=system:node:node$i" "$CLIENT"; kc "kubelet-$i.conf" "node$i"
  leaf "node$i-serving" ca "/CN=node$i" "extendedKeyUsage=serverAuth
subjectAltName=DNS:node$i,IP:$NET.$((i + 2))"
done
cd ..
for m in $(cgroups); do for i in 0 1 2; do mkdir -p "$m/sifkube-peer-$ID/node$i"; done; done
for c in cpuset.cpus cpuset.mems; do
  for d in "" /node0 /node1 /node2; do cat "/sys/fs/cgroup/cpuset/$c" > "/sys/fs/cgroup/cpuset/sifkube-peer-$ID$d/$c"; done
done
ip link add "$BR" type bridge && ip addr add "$NET.1/24" dev "$BR" && ip link set "$BR" up
echo 1 > "/proc/sys/net/ipv4/conf/$BR/forwarding"
iptables -w -t nat -N "SIFKUBE-P$ID-NAT"; iptables -w -t nat -A "SIFKUBE-P$ID-NAT" -s "$NET.0/24" ! -o "$BR" -j MASQUERADE
iptables -w -N "SIFKUBE-P$ID-FWD"; iptables -w -A "SIFKUBE-P$ID-FWD" -i "$BR" -j ACCEPT; iptables -w -A "SIFKUBE-P$ID-FWD" -o "$BR" -j ACCEPT
iptables -w -t nat -A POSTROUTING -j "SIFKUBE-P$ID-NAT"; iptables -w -I FORWARD -j "SIFKUBE-P$ID-FWD"
for i in 0 1 2; do
  ns="skp-$ID-$i"; ip netns add "$ns"
  ip link add "skp${ID}v$i" type veth peer name eth0 netns "$ns"
  ip link set "skp${ID}v$i" master "$BR" up
  ip route add "10.249.$i.0/24" via "$NET.$((i + 2))" dev "$BR"
  ip -n "$ns" link set lo up; ip -n "$ns" addr add "$NET.$((i + 2))/24" dev eth0; ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$NET.1"
done
etcd --name peer --data-dir "$D/etcd" --listen-client-urls "http://127.0.0.1:$CP" --advertise-client-urls "http://127.0.0.1:$CP" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" --initial-cluster "peer=http://127.0.0.1:$PP" --heartbeat-interval=20 --election-timeout=200 >"$D/etcd.log" 2>&1 &
echo $! > "$D/etcd.pid"
until curl -sf "http://127.0.0.1:$CP/health" >/dev/null; do sleep 0.02; done
