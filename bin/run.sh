# Parts of ./run, sourced (and called by the tests): the site address and the fake Stripe.
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

# Migrate, then load the demo data and publish the first release, each only when the database
# has none (a restart keeps the data and publishes nothing). has_data answers by exit status:
# 0 present, 10 absent, anything else an error, which stops here. DEMO_CAMERAS sets the demo's
# size (default: load_demo's).
prepare_data() {
    "$PY" manage.py migrate --noinput
    local what rc
    for what in cameras release; do
        rc=0
        "$PY" manage.py has_data "$what" || rc=$?
        if [ "$rc" -eq 10 ]; then
            if [ "$what" = cameras ]; then
                echo "==> loading demo data"
                "$PY" manage.py load_demo ${DEMO_CAMERAS:+--cameras "$DEMO_CAMERAS"}
            else
                echo "==> publishing the first release"
                "$PY" manage.py publish_release
            fi
        elif [ "$rc" -ne 0 ]; then
            echo "ERROR: could not read the database (manage.py has_data $what: exit $rc)" >&2
            return "$rc"
        fi
    done
}

# Without EMAIL_HOST, every email (the web server's password resets and the worker's order
# emails alike) is written to one file per message in $EMAIL_FILE_PATH (default var/mail).
dev_email() {
    if [ -z "${EMAIL_HOST:-}" ]; then
        EMAIL_FILE_PATH="${EMAIL_FILE_PATH:-$PWD/var/mail}"
        export EMAIL_FILE_PATH
        mkdir -p "$EMAIL_FILE_PATH"
        echo "==> emails are written to $EMAIL_FILE_PATH/ (one file per message), since EMAIL_HOST is not set"
    else
        echo "==> emails are sent through $EMAIL_HOST"
    fi
}

# True when something already listens on 127.0.0.1:$1 (or the port cannot be bound).
port_taken() {
    "$PY" -c "import socket,sys
s = socket.socket()
try:
    s.bind(('127.0.0.1', int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)" "$1"
}

# Start localstripe on $STRIPE_PORT (default 8420) in the background (LOCALSTRIPE: its pid)
# and wait until it answers; when it cannot start, say why and how to fix it, and fail.
start_localstripe() {
    STRIPE_PORT="${STRIPE_PORT:-8420}"
    local log="${LOCALSTRIPE_LOG:-var/log/localstripe.log}"
    if port_taken "$STRIPE_PORT"; then
        echo "ERROR: localstripe (the fake Stripe server) cannot start: port $STRIPE_PORT is already in use." >&2
        echo "       Stop the program using it (another ./run? see: lsof -i :$STRIPE_PORT)," >&2
        echo "       or pick a free port: STRIPE_PORT=8421 ./run" >&2
        return 1
    fi
    echo "==> no STRIPE_SECRET_KEY: starting localstripe on port $STRIPE_PORT (log: $log)"
    "$PY" -m localstripe --port "$STRIPE_PORT" >"$log" 2>&1 &
    LOCALSTRIPE=$!
    export STRIPE_API_BASE="http://localhost:$STRIPE_PORT" STRIPE_JS_URL="http://localhost:$STRIPE_PORT/js.stripe.com/v3/"
    local _
    for _ in $(seq 50); do
        if ! kill -0 "$LOCALSTRIPE" 2>/dev/null; then
            break
        fi
        "$PY" -c "import urllib.request,sys; urllib.request.urlopen('$STRIPE_JS_URL', timeout=1)" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "ERROR: localstripe (the fake Stripe server) did not start on port $STRIPE_PORT; see $log" >&2
    echo "       Is the port free (lsof -i :$STRIPE_PORT)? Another port: STRIPE_PORT=8421 ./run" >&2
    kill "$LOCALSTRIPE" 2>/dev/null || true
    return 1
}
