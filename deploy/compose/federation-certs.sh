#!/bin/sh
# Makes the local federation's trust in the `certs` volume, once: a CA,
# certificates for three coordination servers, an operator, a publisher and
# two gemeente nodes, each valid for its compose service name. Run by the
# `certs` service of compose.federation.yaml; a second run changes nothing.
set -eu
cd "${CERTS:-/certs}"
if [ -e done ]; then
	echo "certificates exist"
	exit 0
fi
assistent federation init --dir ca --name "Lokale federatie (compose)"
issue() { assistent federation issue --dir ca --org "$1" --role "$2" --node "$3" --host "$4" --out "$3"; }
for i in 1 2 3; do issue VNG server "coord-$i" "coord-$i"; done
issue VNG operator ops-1 ops
issue NVVB publisher nvvb-1 nvvb
issue GM0119 node meppel-1 meppel
issue GM1701 node westerveld-1 westerveld
# The servers and nodes run as distroless' non-root user and renew their
# certificates in place.
if [ "$(id -u)" = 0 ]; then chown -R 65532:65532 .; fi
touch done
