FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY helpcenter ./helpcenter
COPY diagnostics ./diagnostics
# Exact versions from uv.lock (no dev tools); --locked refuses a stale lock.
# --compile-bytecode, and compileall for the app below: PYTHONDONTWRITEBYTECODE means
# nothing is ever cached at run time, so without them every gunicorn and Celery start
# compiles each module from source, and the compiler's freed memory stays in each web
# worker (~14 MB RSS of 87, docs/benchmarks.md).
RUN pip install --no-cache-dir uv==0.13.9 \
    && UV_PROJECT_ENVIRONMENT=/usr/local uv sync --locked --no-dev --no-editable --no-cache \
       --compile-bytecode --no-python-downloads --python /usr/local/bin/python
COPY . .
RUN python -m compileall -q helpcenter diagnostics notices
RUN useradd --create-home app && mkdir -p /data /srv/static && chown app /data /srv/static
USER app
EXPOSE 8000
