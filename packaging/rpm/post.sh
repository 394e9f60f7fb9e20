# licd: not started on install.
install -d -o licd -g licd -m 0750 /var/lib/licd
find /var/lib/licd \( ! -user licd -o ! -group licd \) -exec chown -h licd:licd {} +
if [ "$1" -eq 1 ]; then
    chown root:licd /etc/licd
    chmod 0750 /etc/licd
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
if [ "$1" -eq 1 ]; then
    echo "licd is installed but not started. Edit /etc/licd/licd.toml, then: systemctl enable --now licd"
    echo "The first start prints the super_admin's one-time password: journalctl -u licd"
    echo "On an appliance: edit /etc/licd/agent.toml, then: systemctl enable --now licd-agent"
fi
exit 0
