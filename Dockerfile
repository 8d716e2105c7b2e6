FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY helpcenter ./helpcenter
COPY diagnostics ./diagnostics
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home app && mkdir -p /data /srv/static && chown app /data /srv/static
USER app
EXPOSE 8000
