#!/usr/bin/env bash
# migrate-real.t - the real files of ../shared/corpus/real (read from
# there, never copied into the project), each under its original name,
# migrated to 0.8.1 and 1.5.6 and verified.
. "$(dirname "$0")/../lib.sh"
cd "$TMP"
if [ -z "$SHARED" ] || [ ! -d "$SHARED/corpus/real" ]; then
    skip "../shared/corpus/real is not beside the checkout"
    done_testing
    exit
fi

# Views in these files read external files (parquet, CSV) that are not
# there; duckmig builds a file with external access off, so such views
# are the only objects allowed to be left behind, and each is named.
while IFS=$'\t' read -r version repo commit path size here; do
    [ "$version" = storage_version ] && continue
    name=$(basename "$path")
    src=$TMP/$version-$(echo "$repo" | tr / _)/$name
    mkdir -p "$(dirname "$src")"
    cp "$SHARED/corpus/real/$here" "$src"
    sum=$(sha256sum "$src" | cut -d' ' -f1)
    for to in 0.8.1 1.5.6; do
        dst=$TMP/out-$to-$version-$(echo "$repo" | tr / _)/$name
        mkdir -p "$(dirname "$dst")"
        run "$DUCKMIG" migrate --json --to "$to" "$src" "$dst"
        status=$(jq -r .status <<<"$out")
        label="$repo/$path (storage $version) -> $to"
        if [ "$version" -lt 39 ]; then
            is "$rc" 7 "$label: older than 0.6 is refused"
            continue
        fi
        if [ "$version" -ge 64 ] && [ "$to" = 0.8.1 ]; then
            is "$rc" 7 "$label: newer than the target is refused"
            continue
        fi
        if { [ "$version" = 51 ] && [ "$to" = 0.8.1 ]; } || { [ "$version" = 64 ] && [ "$to" = 1.5.6 ]; }; then
            is "$rc/$status" "0/already_at_target" "$label: already at target"
            continue
        fi
        is "$(jq -r '.report.mismatches' <<<"$out")" 0 "$label: verified, no mismatch"
        left=$(jq -r '[.report.items[] | select(.status == "not_carried") | select(.kind != "view" or (.detail | test("reads files outside the database") | not))] | length' <<<"$out")
        is "$left" 0 "$label: only views of missing external files are left behind"
        nc=$(jq -r .report.not_carried <<<"$out")
        if [ "$nc" -gt 0 ]; then
            is "$rc/$status" "14/incomplete" "$label: incomplete, exit 14"
        else
            is "$rc/$status" "0/migrated" "$label: migrated, exit 0"
        fi
        [ -f "$dst" ]; ok $? "$label: DST written"
        run "$DUCKMIG" verify --json "$src" "$dst"
        is "$(jq -r '[.report.items[] | select(.status != "ok")] | length' <<<"$out")" "$nc" \
            "$label: verify finds just the $nc views left behind missing"
    done
    is "$(sha256sum "$src" | cut -d' ' -f1)" "$sum" "$repo/$path: unchanged"
done <"$SHARED/corpus/real/SOURCES.tsv"
done_testing
