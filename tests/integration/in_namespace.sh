# in_namespace.sh - sourced first (before lib.sh) by a test that mounts file systems of
# its own: runs the test again inside a new user and mount namespace (unshare -rm), where
# it may mount a tmpfs without privileges; skips (77) where the kernel does not allow
# such namespaces.
if [ -z "${TL_IN_NAMESPACE:-}" ]; then
	if ! unshare -rm true 2>/dev/null; then
		echo "SKIP: no user and mount namespaces here (unshare -rm)"
		exit 77
	fi
	TL_IN_NAMESPACE=1 exec unshare -rm bash "$0" "$@"
fi
