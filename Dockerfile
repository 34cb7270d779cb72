# ehfgate server image. Build: docker build -t ehfgate .   Run: docker run -p 8080:8080 ehfgate
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EHFGATE_SERVER_HOST=0.0.0.0 \
    EHFGATE_SERVER_PORT=8080 \
    EHFGATE_SERVER_DATA_DIR=/var/lib/ehfgate \
    EHFGATE_ARTIFACTS_DIR=/var/lib/ehfgate/artifacts \
    EHFGATE_MANIFEST=/app/schemas/artifacts.json \
    EHFGATE_MIGRATIONS=/app/schemas/migrations \
    EHFGATE_OPENAPI=/app/schemas/openapi.json

RUN groupadd --system ehfgate && useradd --system --gid ehfgate --home-dir /var/lib/ehfgate ehfgate \
    && mkdir -p /var/lib/ehfgate && chown ehfgate:ehfgate /var/lib/ehfgate

WORKDIR /app
COPY pyproject.toml README.md ./
COPY accesspoint ./accesspoint
COPY distribution ./distribution
COPY schemas ./schemas
RUN pip install --no-cache-dir .

USER ehfgate
WORKDIR /var/lib/ehfgate
# Official validation artifacts are fetched (and verified against the pinned sha256) at build time of
# a derived image or on first start; a mirror directory can be mounted and named by EHFGATE_ARTIFACTS_MIRROR.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "ehfgate artifacts fetch || true; exec ehfgate serve"]
