# Finds headless Chromium for the browser tests, installing Debian's package when it is
# missing and we are root: Chromium and one font, without the packages it recommends (a
# desktop's worth, which would also upgrade udev and systemd).
#
# Source this file and call `find_or_install_chromium`: it prints the browser's path, or
# fails saying how to install it or how to run the tests without it.
find_or_install_chromium() {
    local found
    found="$(command -v chromium || command -v chromium-browser || true)"
    if [ -n "$found" ]; then
        echo "$found"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "error: Chromium not found, and it can be installed here only as root on Debian: install Chromium, or run scripts/test --no-browser to skip the browser tests" >&2
        return 1
    fi
    echo "Installing Chromium (apt-get install --no-install-recommends chromium fonts-dejavu-core)..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
    command -v chromium
}
