# licd: the system user and group, before the files that belong to them.
getent group licd >/dev/null || groupadd --system licd
getent passwd licd >/dev/null || useradd --system --gid licd --home-dir /var/lib/licd \
    --no-create-home --shell /sbin/nologin --comment "licd licensing server" licd
exit 0
