# syntax=docker/dockerfile:1
# runloom: one image for `runloom api`, `runloom manager` and `runloom migrate`.
#
#   docker build -t runloom .
#   docker run --env-file runloom.env -p 8000:8000 runloom            # the API
#   docker run --env-file runloom.env runloom manager                 # a worker manager
#
# deploy/compose.yaml runs a whole cluster; README "Scale-out" says what each needs.

# --- the web UI: built into the Python package's static directory -------------------
FROM node:20-bookworm-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci
COPY ui/ ./
# vite writes ../src/runloom/static (ui/vite.config.ts)
RUN npm run build

# --- the Python environment, exactly as uv.lock pins it -------------------------------
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.8
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies first: a change to the code alone does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src/ src/
COPY supabase/migrations/ supabase/migrations/
COPY --from=ui /src/src/runloom/static/ src/runloom/static/
RUN uv sync --frozen --no-dev

# --- the runtime: no compiler, no node, no uv; a user without privileges --------------
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group runloom \
    && mkdir -p /data && chown runloom:runloom /data
COPY --from=build --chown=runloom:runloom /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RUNLOOM_HOST=0.0.0.0 \
    RUNLOOM_PORT=8000 \
    RUNLOOM_DATA_DIR=/data
WORKDIR /data
USER runloom
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
ENTRYPOINT ["runloom"]
CMD ["api"]
