# Sourced by `serve` and `check`: makes sure tests/emulator/.venv exists and
# matches requirements.txt. Everything it prints goes to stderr, because the
# test harness reads the emulator's stdout for its "listening" line.
#
# The venv is stamped with the hash of requirements.txt; a different hash (or no
# stamp, e.g. after an interrupted install) rebuilds it from scratch. An flock
# serialises concurrent first starts: the second one waits, then finds the stamp.

emulator_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$emulator_dir/.venv"
venv_python="$venv/bin/python"

ensure_venv() {
  local requirements="$emulator_dir/requirements.txt"
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "restoreplan-emulator: needs python3 3.11 or newer (the pinned packages do); found: $(python3 --version 2>&1)" >&2
    return 1
  fi
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$requirements")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi

  # The lock file lives beside .venv (not inside it) so rebuilding the venv
  # cannot delete a lock another process holds.
  exec 9>"$emulator_dir/.venv.lock"
  flock 9
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    flock -u 9
    return 0
  fi

  echo "restoreplan-emulator: installing $venv from requirements.txt (first use)..." >&2
  local started=$SECONDS
  rm -rf "$venv"
  # Debian's python3 may lack ensurepip (python3-venv); fall back to a venv
  # without pip, filled by the host's pip through --python.
  local pip=("$venv_python" -m pip)
  if ! python3 -m venv "$venv" >&2 2>&1; then
    rm -rf "$venv"
    python3 -m venv --without-pip "$venv" >&2
    pip=(python3 -m pip --python "$venv_python")
  fi
  if ! "${pip[@]}" install --disable-pip-version-check --no-input -q -r "$requirements" >&2; then
    echo "restoreplan-emulator: pip install failed; the next start will retry" >&2
    rm -rf "$venv"
    flock -u 9
    return 1
  fi
  echo "$want" > "$stamp"
  echo "restoreplan-emulator: venv ready in $((SECONDS - started)) s" >&2
  flock -u 9
}
