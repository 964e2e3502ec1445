#!/bin/sh
# NVVB registers its signing key and publishes the Rijksoverheid FAQ as a
# signed national collection, as deploy/local-federation.sh does. Run by
# the `publish` service of compose.federation.yaml once the servers are up;
# a second run publishes nothing new.
set -eu
cd /certs
if [ -e published ]; then
	echo "collection published"
	exit 0
fi
SERVERS="--server https://coord-1:8301 --server https://coord-2:8301 --server https://coord-3:8301"
[ -e nvvb.key ] || assistent federation keygen --out nvvb.key >nvvb.pub
entry=$(sed -n 's/^registry entry for the organisation.s public_keys: //p' nvvb.pub)
# shellcheck disable=SC2086
assistent federation put $SERVERS --cert ops-1 --kind org --key NVVB \
	--value "{\"id\":\"NVVB\",\"name\":\"NVVB\",\"role\":\"publisher\",\"public_keys\":[$entry]}"
gunzip -c /demo/rijksoverheid.jsonl.gz >/tmp/rijksoverheid.jsonl
# shellcheck disable=SC2086
assistent federation publish $SERVERS --cert nvvb-1 --key nvvb.key --org NVVB --collection rijksoverheid \
	--jsonl /tmp/rijksoverheid.jsonl --version 1
touch published
