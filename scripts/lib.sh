# SPDX-License-Identifier: MIT
# What every v6lab shell script shares, sourced (never run): --help, --version and the
# one line for an option it does not know.
#   . "$top/scripts/lib.sh"
#   v6_common_options NAME ARGS_MODE "$@"
# ARGS_MODE, for the script's first argument: "none" (no option of its own: --help, --version,
# and any other -x is an error), "pass" (--help and --version here, other options are passed
# on, as scripts/test passes them to ctest), "own" (the script parses its options itself,
# --help included: only --version here). --help prints the script's head comment (from line
# 2 to the first line that is not a comment, SPDX line left out).

# The project's one version: CMakeLists.txt's in a source tree, the VERSION file installed
# beside the scripts (PREFIX/libexec/v6lab/VERSION) otherwise.
v6_version() {
  local top; top=$(dirname "${BASH_SOURCE[0]}")/..
  if [ -f "$top/CMakeLists.txt" ]; then
    sed -n 's/^project(v6lab VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt"
  else
    cat "$top/VERSION"
  fi
}

v6_help() {
  sed -n '2,/^[^#]/{/^# SPDX/d;/^#/s/^# \{0,1\}//p}' "$0"
}

v6_common_options() {
  local name=$1 mode=$2
  shift 2
  case "${1:-}" in
    -h|--help) [ "$mode" = own ] || { v6_help; exit 0; } ;;
    --version) echo "$name (v6lab) $(v6_version)"; exit 0 ;;
    -*) if [ "$mode" = none ] && [ "$1" != "--" ]; then
          echo "$name: unknown option '$1' (see scripts/$name --help)" >&2; exit 2
        fi ;;
  esac
}
