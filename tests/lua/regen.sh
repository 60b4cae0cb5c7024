#!/usr/bin/env bash
# Regenerate the expected files of Lua corpus scripts from LuaJIT's real behaviour.
#
#   tests/lua/regen.sh                      # every script (except stdlib_pending unless ALL=1)
#   tests/lua/regen.sh tests/lua/gc/*.lua   # just these
#
# For each script it runs `luajit <name>.lua` in the script's folder with argv[0]
# set to `perilune` (so messages read `perilune: ...`), then writes <name>.expected
# (stdout), <name>.stderr (only if non-empty; hex addresses become 0x?) and
# <name>.status (only if the exit status is not 0). Scripts containing the line
# `-- test: perilune-only` have hand-written expectations and are skipped.
# Always review the diff (git diff tests/lua) before committing.
set -euo pipefail
luajit=${PERILUNE_LUAJIT:-luajit}
root=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
  if [ "${ALL:-0}" = 1 ]; then
    mapfile -t files < <(find "$root" -name '*.lua' | sort)
  else
    mapfile -t files < <(find "$root" -name '*.lua' -not -path '*/stdlib_pending/*' | sort)
  fi
else
  files=("$@")
fi
for f in "${files[@]}"; do
  if grep -qx -- '-- test: perilune-only' "$f"; then
    echo "skip (perilune-only): $f"
    continue
  fi
  dir=$(dirname "$f")
  base=$(basename "$f" .lua)
  status=0
  (cd "$dir" && LUA_INIT='' timeout 60 bash -c 'exec -a perilune "$0" "$1"' "$luajit" "$base.lua" \
    >"$base.expected" 2>"$base.stderr.tmp" </dev/null) || status=$?
  sed -E -i 's/0x[0-9a-fA-F]+/0x?/g; s/^luajit: /perilune: /' "$dir/$base.stderr.tmp"
  if [ -s "$dir/$base.stderr.tmp" ]; then
    mv "$dir/$base.stderr.tmp" "$dir/$base.stderr"
  else
    rm -f "$dir/$base.stderr.tmp" "$dir/$base.stderr"
  fi
  if [ "$status" -ne 0 ]; then
    echo "$status" >"$dir/$base.status"
  else
    rm -f "$dir/$base.status"
  fi
  echo "$f: status $status"
done
