FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY marketplace marketplace
COPY sellers sellers
COPY offers offers
COPY orders orders
COPY projections projections
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["marketplace", "serve", "--host", "0.0.0.0"]
