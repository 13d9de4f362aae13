# Shared by image/boot-test and image/repro-test (sourced, not run).
# shellcheck shell=bash

export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C TZ=UTC MTOOLS_SKIP_CHECK=1

passed=0 failed=0 failures=()
pass() { passed=$((passed + 1)); echo "PASS  $*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); echo "FAIL  $*"; }
note() { echo "      $*"; }

# The state partition's place in airlock.img (must match image/build).
STATE_START=$((2048 + 64 * 2048))
STATE_SECTORS=$((32 * 2048))

ensure_tools() { # installs the Debian packages the tests need when missing (as root)
    local -A want=([qemu-system-x86_64]=qemu-system-x86 [mcopy]=mtools [mkfs.fat]=dosfstools
                   [fsck.fat]=dosfstools [debugfs]=e2fsprogs [e2fsck]=e2fsprogs [python3]=python3)
    local missing=() t
    for t in "${!want[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("${want[$t]}"); done
    [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
    [ ${#missing[@]} -eq 0 ] && return 0
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    [ "$(id -u)" = 0 ] || { echo "missing test tools; install: apt-get install ${missing[*]}" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}

# Chooses -accel kvm only if KVM can actually run a guest promptly: a 512-byte boot sector that
# writes to isa-debug-exit must make QEMU exit with status 3 within 5 s. /dev/kvm existing (even
# KVM_CREATE_VM working) is not enough on nested or restricted hosts. AIRLOCK_QEMU_ACCEL overrides.
pick_accel() {
    if [ -n "${AIRLOCK_QEMU_ACCEL:-}" ]; then echo "$AIRLOCK_QEMU_ACCEL"; return; fi
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        local probe rc
        probe=$(mktemp)
        python3 -c "import sys
b = bytes([0xB0, 0x01, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD])  # mov al,1; out 0xf4,al; hlt; jmp \$-1
sys.stdout.buffer.write(b + bytes(510 - len(b)) + b'\x55\xaa')" > "$probe"
        # A working KVM runs this probe in about 0.1 s; the nested KVM on our CI machines takes
        # about 5 s for it and then crawls through a kernel boot, so it counts as not working.
        timeout 1.5 qemu-system-x86_64 -accel kvm -machine pc -nodefaults -display none -m 32 \
            -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
            -drive "file=$probe,format=raw,if=ide" >/dev/null 2>&1 && rc=0 || rc=$?
        rm -f "$probe"
        if [ "$rc" = 3 ]; then echo kvm; return; fi
    fi
    echo tcg
}

# Copies a directory tree onto a new FAT image labelled AIRLOCK (no mount).
make_media() { # SRC_DIR IMAGE SIZE_MIB
    rm -f "$2"
    mkfs.fat -C -n AIRLOCK -i 41524C4D "$2" $(($3 * 1024)) >/dev/null
    if [ -n "$(ls -A "$1")" ]; then
        mcopy -i "$2" -s -Q "$1"/* ::/
    fi
}

# Lists the regular files in a FAT image directory, one name a line (empty if absent).
fat_ls() { # IMAGE DIR
    mdir -i "$1" -b "::/$2" 2>/dev/null | sed 's|.*/||' | grep -v '^$' || true
}

# The payload of a DSSE receipt read from a FAT image, as JSON (empty on any error).
receipt_payload() { # IMAGE PATH
    mtype -i "$1" "::/$2" 2>/dev/null | python3 -c '
import base64, json, sys
try:
    env = json.load(sys.stdin)
    p = env["payload"]
    p += "=" * (-len(p) % 4)
    raw = base64.b64decode(p.replace("-", "+").replace("_", "/"))
    print(json.dumps(json.loads(raw)))
except Exception as e:
    print("", end="")
'
}

# ---------------------------------------------------------------------------------------------
# Checks after a boot: LOG MEDIA_IMAGE STATE_IMAGE LABEL. Uses $mode (full|plumbing), $expected
# (the CLI's JSON verdicts), $w (work dir), $accel and $elapsed.
check_run() {
    local log=$1 media=$2 state=$3 what=$4 ok=1 why=()
    grep -q 'reboot: Power down' "$log" || { ok=0; why+=("did not power off"); }
    grep -q 'internal error' "$log" && { ok=0; why+=("internal error on the console"); }
    fsck.fat -n "$media" >"$w/fsck.fat.log" 2>&1 || { ok=0; why+=("media FAT not clean: $(tail -1 "$w/fsck.fat.log")"); }
    grep -qi 'dirty bit' "$w/fsck.fat.log" && { ok=0; why+=("media left mounted (dirty bit)"); }
    e2fsck -fn "$state" >"$w/e2fsck.log" 2>&1 || { ok=0; why+=("state ext4 not clean"); }
    if [ $mode = plumbing ]; then
        grep -q "holds no bundles" "$log" || { ok=0; why+=("no 'no bundles' message"); }
        [ -z "$(fat_ls "$media" receipts)" ] || { ok=0; why+=("receipts written for an empty inbox"); }
    else
        local n_promote=0 n_reject=0 bundle verdict base got receipts lines
        receipts=$(fat_ls "$media" receipts)
        while read -r bundle verdict; do
            base=${bundle##*/}
            [ "$verdict" = promote ] && n_promote=$((n_promote + 1)) || n_reject=$((n_reject + 1))
            if ! grep -qx "$base.$verdict.receipt.json" <<<"$receipts"; then
                ok=0; why+=("no $verdict receipt for $bundle (have: $(echo $receipts))"); continue
            fi
            got=$(receipt_payload "$media" "receipts/$base.$verdict.receipt.json" \
                | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["verdict"], p["bundle"]["file"])' 2>/dev/null)
            [ "$got" = "$verdict $bundle" ] || { ok=0; why+=("receipt for $bundle says '$got'"); }
            grep -q "$(echo "$verdict" | tr a-z A-Z) *$bundle" "$log" || { ok=0; why+=("console does not show $verdict for $bundle"); }
        done < <(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]: print(r["bundle"], r["verdict"])' "$expected")
        [ $n_promote -ge 1 ] && [ $n_reject -ge 1 ] || { ok=0; why+=("fixture should hold a good and a tampered bundle ($n_promote promote, $n_reject reject)"); }
        lines=$(mtype -i "$media" ::/evidence/airlock-evidence.jsonl 2>/dev/null | grep -c '"seq"')
        [ "$lines" = $((n_promote + n_reject)) ] || { ok=0; why+=("evidence log has $lines records"); }
    fi
    local t
    t=$(sed -n 's/.*verdict shown at \([0-9.]*\) s after power-on.*/\1/p' "$log" | head -1)
    if [ $ok = 1 ]; then
        pass "$what (verdict at ${t:-?} s kernel uptime, ${elapsed}s wall, $accel)"
    else
        fail "$what: ${why[*]}"
        note "last console lines:"; tail -15 "$log" | sed 's/^/      | /'
    fi
}

summary() { # NAME
    echo "$1: $passed passed, $failed failed"
    local f
    for f in "${failures[@]}"; do echo "  failed: $f"; done
    [ "$failed" = 0 ]
}

# The image tests build from image/inputs.lock. Debian's mirror drops superseded packages (a kernel
# security update retires the pinned one), and CI must not stop working on that day: when a pinned
# package cannot be had, the tests re-pin into a private copy of the lock (never the committed one),
# say so loudly, and go on; the committed pin is moved deliberately with `image/build --update-lock`.
use_pinned_inputs_or_repin() { # BUILD_SCRIPT WORK_DIR
    if "$1" "$2/inputs-check" --inputs-only >"$2/inputs.log" 2>&1; then
        return 0
    fi
    cp "$(dirname "$1")/inputs.lock" "$2/inputs.lock"
    export AIRLOCK_IMAGE_LOCK=$2/inputs.lock
    if "$1" "$2/inputs-check" --inputs-only --update-lock >>"$2/inputs.log" 2>&1; then
        note "WARNING: a pinned Debian package is no longer on the mirror; testing with the current"
        note "versions (image/build --update-lock moves the committed pin):"
        grep -v '^#' "$AIRLOCK_IMAGE_LOCK" | sed 's/^/        /'
        return 0
    fi
    return 1
}
