FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY helpcenter ./helpcenter
COPY diagnostics ./diagnostics
# Exact versions from uv.lock (no dev tools); --locked refuses a stale lock.
RUN pip install --no-cache-dir uv==0.13.9 \
    && UV_PROJECT_ENVIRONMENT=/usr/local uv sync --locked --no-dev --no-editable --no-cache \
       --no-python-downloads --python /usr/local/bin/python
COPY . .
RUN useradd --create-home app && mkdir -p /data /srv/static && chown app /data /srv/static
USER app
EXPOSE 8000
