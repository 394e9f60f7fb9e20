# licd: the data directory /var/lib/licd and the licd user are kept.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    # An upgrade restarts a running licd on the new binary.
    if [ "$1" -ge 1 ]; then systemctl try-restart licd.service licd-agent.service >/dev/null 2>&1 || true; fi
fi
exit 0
