# Shared by the provisioning scripts that build a part from source into the cache (sourced, not run).
# The caller defines `complete` (its cache entry is whole), `dir` (what to print: the entry) and
# `cache_root` (the part's folder in the cache, which holds the lock).

# Prints the entry and ends the script when it is complete.
done_if_complete() {
  if complete; then
    echo "$dir"
    exit 0
  fi
}

# One build at a time: a second caller waits here for the first, then finds the entry complete.
lock_cache() {
  mkdir -p "$cache_root"
  exec 9>"$cache_root/.lock"
  flock 9
  done_if_complete
}

# Go on PATH, or the script ends with $1. Go installed from go.dev lives in /usr/local/go/bin, which a
# non-login PATH may lack.
need_go() {
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
  command -v go >/dev/null || { echo "$1" >&2; exit 1; }
}
