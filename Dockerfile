# One image for every role: the SMTP ingest (feedback serve --no-worker), workers (feedback worker)
# and the CLI (feedback report ..., feedback send ...). Build: docker build -t feedback-loop .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY feedback feedback
COPY cli cli
COPY workers workers
COPY templates templates
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
RUN useradd --system --home /var/lib/feedback --create-home feedback
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
USER feedback
WORKDIR /var/lib/feedback
ENV FEEDBACK_DATA_DIR=/var/lib/feedback \
    FEEDBACK_SMTP_HOST=0.0.0.0 \
    FEEDBACK_HTTP_HOST=0.0.0.0
# 2525: SMTP ingest; 8080: webhooks, /healthz, /readyz, /metrics (when FEEDBACK_HTTP_PORT=8080)
EXPOSE 2525 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('FEEDBACK_HTTP_PORT', '8080'), timeout=3)"
ENTRYPOINT ["feedback"]
CMD ["serve", "--no-worker"]
