# Image of the Stocktake services (installed editable so that alembic.ini and
# migrations/ stay beside the code, where the CLI looks for them).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY services ./services
COPY migrations ./migrations
RUN pip install --no-cache-dir -e . && useradd --system --uid 10001 stocktake
# The data folder (the checkpoint signing key): a volume mounted here starts owned by the service's user.
RUN mkdir /data && chown stocktake /data
USER stocktake
EXPOSE 8000
CMD ["stocktake", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
