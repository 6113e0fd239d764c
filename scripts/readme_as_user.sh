#!/usr/bin/env bash
# Proves the README's two commands as an ordinary user with the system's Python: run as root, it
# creates a throw-away user, copies the working tree into its home and, with nothing but the
# system PATH (no uv, no pyenv), runs
#   1. the README's first line, with `--port` added to its last command; once the app answers,
#      SIGTERM stops it, and no Streamlit or PostgreSQL of that user may be left;
#   2. the README's second line on the unit tests (the whole suite runs as root already).
# The user and its home are removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "run me as root: I create a throw-away user" >&2
    exit 2
fi

mapfile -t lines < <(awk '/^```sh$/ {inside = 1; next} /^```$/ {exit} inside' README.md)
first="${lines[0]}"
second="${lines[1]}"
install="${first% && *}"    # everything before the last `&&`
run="${first##* && }"       # the last command: uv run fleetspend demo
port=$((20000 + RANDOM % 20000))

user="fsreadme$RANDOM"
home="/tmp/$user"
useradd --create-home --home-dir "$home" --shell /bin/bash "$user"
# nothing of the user's may outlive the check: userdel refuses while any of its processes runs
trap 'userdel --remove "$user" 2>/dev/null || echo "user $user still has processes" >&2' EXIT
runuser -u "$user" -- mkdir "$home/repo"
git ls-files -z --cached --others --exclude-standard \
    | tar --null --files-from - -cf - | runuser -u "$user" -- tar -xf - -C "$home/repo"
runuser -u "$user" -- git -C "$home/repo" init --quiet  # a checkout, as a newcomer's would be

# the machine's own network settings (a proxy, a CA bundle) pass through; nothing else does
network=()
for name in SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY \
            NO_PROXY; do
    [ -n "${!name:-}" ] && network+=("$name=${!name}")
done

as_user() {
    runuser -u "$user" -- env -i HOME="$home" USER="$user" LANG=C.UTF-8 "${network[@]}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        bash -c "cd ~/repo || exit 1
$1"
}

echo "== as $user, python3 is $(as_user 'command -v python3; python3 --version' | tr '\n' ' ')"
echo "== $install"
as_user "$install"
echo "== $run --port $port, then SIGTERM"
as_user "
    ($run --port $port & echo \$! > demo.pid; wait) > demo.log 2>&1 &
    sleep 1
    for _ in \$(seq 300); do
        curl -fs http://127.0.0.1:$port/_stcore/health >/dev/null && break
        kill -0 \$(cat demo.pid) 2>/dev/null || break
        sleep 1
    done
    curl -fs http://127.0.0.1:$port/_stcore/health >/dev/null || { cat demo.log; exit 1; }
    kill -TERM \$(cat demo.pid)
    for _ in \$(seq 60); do kill -0 \$(cat demo.pid) 2>/dev/null || break; sleep 1; done
    cat demo.log
    # (a zombie, exited but not yet reaped by a container's init, runs nothing)
    left=\$(ps -u $user -o stat=,pid=,comm= | awk '\$1 !~ /^Z/ && \$3 ~ /^(postgres|python|uv|streamlit)/')
    if [ -n \"\$left\" ]; then echo \"left running: \$left\" >&2; exit 1; fi
    if grep -q 'Did not auto detect' demo.log; then exit 1; fi
"
echo "== $second tests/unit"
as_user "$second tests/unit -q -p no:cacheprovider"
echo "== both README commands work as $user"
