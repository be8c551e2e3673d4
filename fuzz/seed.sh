#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the project's fixtures, fuzz/seeds/,
# fixtures/fuzz/<target>/ (earlier crashes) and, when present, the shared
# sample corpus ../shared/corpus (mail and ics; for fuzzing only, the
# project's tests never read it). Safe to run again: files are copied by
# content hash, so nothing is duplicated.
#
#   fuzz/seed.sh [SHARED_CORPUS_DIR]     (default: ../shared/corpus beside the project)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${1:-$root/../shared/corpus}

# copy TARGET PATH...: each regular file (or every file below a folder,
# dotfiles, READMEs, generators and golden .json skipped) into
# fuzz/corpus/TARGET/<sha1>
copy() {
    target=$1
    shift
    mkdir -p "$here/corpus/$target"
    for p in "$@"; do
        [ -e "$p" ] || continue
        find "$p" -type f ! -name '.*' ! -name '*.json' ! -name 'README*' ! -name '*.py' | while IFS= read -r f; do
            sum=$(sha1sum "$f" | cut -c1-40)
            cp "$f" "$here/corpus/$target/$sum"
        done
    done
}

copy mail "$root/fixtures/mail" "$root/fixtures/maildir" "$root/fixtures/invitations" "$root/fixtures/fuzz/mail"
copy invoice "$root/fixtures/isdoc"
copy documents "$root/fixtures/documents"
copy mail_view "$root/fixtures/mail" "$root/fixtures/maildir" "$root/fixtures/fuzz/mail_view"
copy ics "$root/fixtures/ics" "$root/fixtures/calendar" "$root/fixtures/fuzz/ics"
copy invitation "$root/fixtures/ics" "$root/fixtures/calendar" "$root/fixtures/fuzz/invitation"
copy multistatus "$root/fixtures/fuzz/multistatus" "$root/fixtures/ics"
copy graph "$root/fixtures/fuzz/graph"
copy pgpass "$root/fixtures/fuzz/pgpass"
copy note "$root/fixtures/notes" "$root/fixtures/fuzz/note"
copy config "$root/config/kronika.example.toml" "$here/seeds/config" "$root/fixtures/fuzz/config"
copy csv_clients "$root/fixtures/clients.csv" "$root/fixtures/bad-clients.csv" "$root/fixtures/fuzz/csv_clients"
copy csv_deals "$here/seeds/csv_deals" "$root/fixtures/fuzz/csv_deals"
copy query "$here/seeds/query" "$root/fixtures/fuzz/query"
copy capture "$root/fixtures/capture" "$root/fixtures/mail" "$root/fixtures/fuzz/capture"

if [ -d "$shared" ]; then
    copy mail "$shared/mail"
    copy ics "$shared/ics"
    copy invitation "$shared/ics"
else
    echo "seed.sh: no shared corpus at $shared; seeding from the project only" >&2
fi

for t in mail capture ics note config csv_clients csv_deals query; do
    echo "$t: $(ls "$here/corpus/$t" | wc -l) seeds"
done
