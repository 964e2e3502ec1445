#!/usr/bin/env bash
# Starts a small federation on 127.0.0.1 with real certificates: three
# coordination servers, two gemeente nodes (Meppel and Westerveld, fictional
# content) that watch the registry and ask each other when their own pages
# fall short, the Rijksoverheid FAQ published by "NVVB" as a signed national
# collection, and a prompt template change. Ctrl+C stops everything.
#
#   deploy/local-federation.sh [DIR]     (default DIR: /tmp/assistent-federation)
set -euo pipefail

DIR=${1:-/tmp/assistent-federation}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
BIN="$DIR/assistent"
( cd "$ROOT" && go build -o "$BIN" ./cmd/assistent )

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "== trust: a federation CA and certificates"
"$BIN" federation init --dir ca --name "Lokale federatie" >/dev/null
issue() { "$BIN" federation issue --dir ca --org "$1" --role "$2" --node "$3" --host 127.0.0.1 --out "$3" >/dev/null; }
for i in 1 2 3; do issue VNG server "coord-$i"; done
issue VNG operator ops-1
issue NVVB publisher nvvb-1
issue GM0119 node meppel-1
issue GM1701 node westerveld-1

echo "== three coordination servers"
api() { echo "https://127.0.0.1:1830$1"; }
"$BIN" coordinator --data coord-1/data --id coord-1 --cert coord-1 --raft-addr 127.0.0.1:18201 --api-addr 127.0.0.1:18301 \
	--bootstrap --ca ca >coord-1.log 2>&1 &
pids+=($!)
until curl -skf "$(api 1)/healthz" >/dev/null; do sleep 0.2; done
for i in 2 3; do
	"$BIN" coordinator --data "coord-$i/data" --id "coord-$i" --cert "coord-$i" --raft-addr "127.0.0.1:1820$i" \
		--api-addr "127.0.0.1:1830$i" --join "$(api 1)" --peer "coord-1=$(api 1)" >"coord-$i.log" 2>&1 &
	pids+=($!)
done
for i in 2 3; do until curl -skf "$(api "$i")/healthz" >/dev/null; do sleep 0.2; done; done
SERVERS="--server $(api 1) --server $(api 2) --server $(api 3)"

echo "== NVVB registers its signing key and publishes the Rijksoverheid FAQ"
entry=$("$BIN" federation keygen --out nvvb.key | sed -n 's/^registry entry for the organisation.s public_keys: //p')
# shellcheck disable=SC2086
"$BIN" federation put $SERVERS --cert ops-1 --kind org --key NVVB \
	--value "{\"id\":\"NVVB\",\"name\":\"NVVB\",\"role\":\"publisher\",\"public_keys\":[$entry]}" >/dev/null
gunzip -c "$ROOT/node/demo/rijksoverheid.jsonl.gz" >rijksoverheid.jsonl
# shellcheck disable=SC2086
"$BIN" federation publish $SERVERS --cert nvvb-1 --key nvvb.key --org NVVB --collection rijksoverheid \
	--jsonl rijksoverheid.jsonl --version 1

echo "== the operator changes a prompt template"
# shellcheck disable=SC2086
"$BIN" federation put $SERVERS --cert ops-1 --kind template --key answer/nl \
	--value '{"name":"answer","version":2,"lang":"nl","body":"{{define \"system\"}}Je bent de digitale assistent van {{.Gemeente}}. Antwoord in eenvoudig Nederlands (B1), alleen uit de bronnen, met [n] achter elke zin. Staat het er niet in, antwoord dan alleen: {{.RefusalMarker}}{{end}}{{define \"user\"}}{{.Passages}}\n{{.Question}}{{end}}"}' >/dev/null

echo "== two gemeente nodes"
node() { # id tenant name port peerport peer-org peer-name peer-port
	mkdir -p "$1"
	"$BIN" tenant set --data "$1/data" --id "$2" --name "$3" --phone "14 0000" >/dev/null
	cat >"$1/config.json" <<EOF
{"addr": "127.0.0.1:$4", "federation": {"servers": ["$(api 1)", "$(api 2)", "$(api 3)"], "cert": "$1",
 "peer_addr": "127.0.0.1:$5", "tenant": "$2",
 "peers": [{"org": "$6", "name": "$7", "url": "https://127.0.0.1:$8"}]}}
EOF
}
node meppel-1 meppel "Gemeente Meppel" 18081 18441 GM1701 "Gemeente Westerveld" 18442
node westerveld-1 westerveld "Gemeente Westerveld" 18082 18442 GM0119 "Gemeente Meppel" 18441
cat >zwerfvuil.jsonl <<'EOF'
{"id":"zwerfvuil","url":"https://www.westerveld.example/zwerfvuil-rapen","title":"Zwerfvuil rapen met de buurt","text":"Wilt u met uw buurt zwerfvuil rapen? De gemeente leent u gratis grijpers, hesjes en vuilniszakken. Vraag ze minstens een week van tevoren aan met het formulier. Na afloop halen wij de volle zakken op."}
EOF
"$BIN" ingest --data westerveld-1/data --tenant westerveld --jsonl zwerfvuil.jsonl >/dev/null
for n in meppel-1 westerveld-1; do
	"$BIN" serve --config "$n/config.json" --data "$n/data" >"$n.log" 2>&1 &
	pids+=($!)
done
for port in 18081 18082; do until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done; done
printf "== waiting for the nodes to import the signed collection"
until curl -s http://127.0.0.1:18081/api/v1/tenants/meppel/ask -H 'Content-Type: application/json' -d '{"question":"hoe vraag ik een paspoort aan"}' | grep -q rijksoverheid; do
	printf "."; sleep 0.5
done
echo

cat <<EOF

The federation runs in $DIR (logs: *.log). Try:

  curl http://127.0.0.1:18081/readyz
  curl http://127.0.0.1:18081/api/v1/tenants/meppel/ask -H 'Content-Type: application/json' -d '{"question":"hoe vraag ik een paspoort aan"}'
  curl http://127.0.0.1:18081/api/v1/tenants/meppel/ask -H 'Content-Type: application/json' -d '{"question":"kan ik grijpers lenen om zwerfvuil te rapen"}'
      (Meppel has no page on it: the answer comes from Westerveld, labelled as such)
  $BIN federation nodes $SERVERS --cert ops-1
  $BIN federation get $SERVERS --cert ops-1 --kind template

Ctrl+C stops everything.
EOF
wait
