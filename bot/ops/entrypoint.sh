#!/bin/sh
# Container entrypoint: refuse to start, with the fix, when the SQLite directory is not writable.
# A bind mount (`-v ./data:/data`) keeps the host directory's owner, usually root, while the bot
# runs as uid 10001; without this check it died on its lock file with a traceback.
set -eu
case "${NEWSBOT_DATABASE_URL:-}" in
  sqlite*:///*)
    dir=$(dirname "${NEWSBOT_DATABASE_URL#*:///}")
    if [ -d "$dir" ] && [ ! -w "$dir" ]; then
      echo "error: $dir is not writable by uid $(id -u): on the host run" \
        "\`sudo chown -R $(id -u):$(id -g) DIR\` for the directory mounted at $dir," \
        "or use a named volume (-v newsbot-data:$dir)" >&2
      exit 1
    fi
    ;;
esac
exec "$@"
