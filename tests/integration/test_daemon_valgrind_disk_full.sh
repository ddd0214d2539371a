# The full-disk test with the daemon under valgrind: holding, collapsing, retrying and at
# last logging the writes the store could not take is free of memory errors and leaks
# (valgrind makes the daemon exit 99, which the test checks at every stop).
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
# valgrind cannot run an ASan binary; the sanitizer build runs the plain test itself.
[ "${TL_SANITIZED:-0}" = 0 ] || { echo "sanitizer build: valgrind does not apply"; exit 77; }
export TL_DAEMON_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
exec bash "$(dirname "$0")/test_daemon_disk_full.sh" "$@"
