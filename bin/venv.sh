# Shared by ./run and ./test: create .venv when missing and install the project into it.
# Usage: . bin/venv.sh [extras]   (sourced; sets PY to the venv's python)
pick_python() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    echo "Python 3.11 is required (python3.11 not found)" >&2
    return 1
}

ensure_venv() {
    local extras="${1:-}"
    if [ -x .venv/bin/python ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
        echo "==> .venv is incomplete (interrupted creation?); recreating it"
        rm -rf .venv
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "==> creating .venv"
        "$(pick_python)" -m venv .venv
        .venv/bin/python -m pip install -q --upgrade pip
    fi
    PY=.venv/bin/python
    # Reinstall only when pyproject.toml changed since the last install.
    local stamp=".venv/.installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "==> installing dependencies${extras:+ ($extras)}"
        local target="."
        [ -n "$extras" ] && target=".[${extras}]"
        "$PY" -m pip install -q -e "$target" 2>&1 | grep -v "is ignored: it is neither" || true
        "$PY" -c 'import django, geopandas, celery' || { echo "dependency install failed" >&2; return 1; }
        touch "$stamp"
    fi
    # The translation catalogs, compiled from the committed .po files (.mo files are not committed)
    "$PY" bin/catalogs.py compile || { echo "the translation catalogs do not compile (bin/catalogs.py)" >&2; return 1; }
}
