# SPDX-License-Identifier: MIT
# Sourced by collect.sh and ingest.sh: the binary ($ed), the bench folder ($dir,
# $BENCH_DIR or /var/tmp/envdrift-bench), the core count, and the corpus
# ($corpus: a copy of /usr/share and /usr/lib, about 120,000 files, 5 GB),
# built when missing.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ed=${ENVDRIFT:-$here/build/envdrift}
dir=${BENCH_DIR:-/var/tmp/envdrift-bench}
corpus=$dir/corpus
cores=$(nproc)
mkdir -p "$dir"

if [ ! -f "$corpus/.complete" ]; then
	echo "building the corpus in $corpus (a copy of /usr/share and /usr/lib) ..."
	rm -rf "$corpus"
	mkdir -p "$corpus"
	cp -a /usr/share /usr/lib "$corpus"/ 2>/dev/null || true
	touch "$corpus/.complete"
fi
