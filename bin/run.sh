# Parts of ./run, sourced (and called by the tests).
# Usage: . bin/run.sh   (needs PY set to a python, see bin/venv.sh)

# The address the shop is served on, for the links in emails: SITE_URL when set, else
# http://HOST:PORT (defaults 127.0.0.1:8000).
site_url() {
    if [ -n "${SITE_URL:-}" ]; then
        echo "$SITE_URL"
    else
        echo "http://${HOST:-127.0.0.1}:${PORT:-8000}"
    fi
}
