# licd: stop the service on uninstall (not on upgrade). Data and config stay.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl stop licd.service licd-agent.service >/dev/null 2>&1 || true
    systemctl disable licd.service licd-agent.service >/dev/null 2>&1 || true
fi
exit 0
