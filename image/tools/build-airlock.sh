#!/usr/bin/env bash
# Builds the static airlock binary (x86_64-unknown-linux-musl) exactly as the image uses it and
# prints its path: without default features, so /init carries no authoring code (no `demo`, no key
# generation, packing or root signing). `build-airlock.sh airlock-bundle` builds and prints the
# connected-side tool the same way (image/build runs it to write the default demo stick). Shared by image/build and the tests so both use one cargo configuration (a
# different RUSTFLAGS would make cargo rebuild everything each time).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=$(dirname "$here")
MUSL=x86_64-unknown-linux-musl
command -v cargo >/dev/null || { echo "build-airlock: cargo not found" >&2; exit 1; }
rustup target list --installed 2>/dev/null | grep -cx "$MUSL" >/dev/null || rustup target add "$MUSL" >&2
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# Paths are remapped so the binary does not depend on where the checkout or cargo home live.
pkg=${1:-airlock}
case $pkg in
    airlock) features=--no-default-features ;;
    airlock-bundle) features= ;;
    *) echo "build-airlock: unknown package $pkg" >&2; exit 1 ;;
esac
RUSTFLAGS="--remap-path-prefix=$repo=/airlock --remap-path-prefix=$cargo_home=/cargo" \
    cargo build --quiet --release --locked --target "$MUSL" -p "$pkg" $features --manifest-path "$repo/Cargo.toml" >&2
echo "${CARGO_TARGET_DIR:-$repo/target}/$MUSL/release/$pkg"
