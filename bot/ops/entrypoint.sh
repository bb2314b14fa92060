#!/bin/sh
# Container entrypoint: refuse to start, with the fix, when the SQLite directory is not writable.
# A bind mount (`-v ./data:/data`) keeps the host directory's owner, usually root, and the bot
# runs as uid 10001; without this check the bot dies on its lock file with a traceback.
set -eu
case "${NEWSBOT_DATABASE_URL:-}" in
  sqlite*:////data/*)
    if [ ! -w /data ]; then
      echo "error: /data is not writable by uid $(id -u): on the host run" \
        "\`sudo chown -R 10001:10001 DIR\` for the directory mounted at /data" \
        "(or use a named volume: -v newsbot-data:/data)" >&2
      exit 1
    fi
    ;;
esac
exec "$@"
