"""The JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json) and RFC 9457 problem documents."""
