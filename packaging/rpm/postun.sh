# licd: the data directory /var/lib/licd and the licd user are kept.
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
exit 0
