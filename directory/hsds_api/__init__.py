"""The HSDS 3.1 API (Open Referral's API reference), read-only, under `/hsds/`.

- `app`: the sub-application (mounted at /hsds), CORS for its GETs, problem documents.
- `routes`: the endpoints of the official OpenAPI document (root, services, organizations,
  service_at_locations, taxonomies, taxonomy_terms, each list and by id).
- `params`: the standard parameters, parsed once (bad values: RFC 9457 problems).
- `select`: which records a request means (filters, pages, `modified_after` with tombstones).
- `shapes`: the records, built from the exporter's per-record mapping
  (`directory.exchange.records`), so the API and the files are one mapping with one redaction.
- `feed`: an Atom feed of changes per region. `client`: reading another installation's API
  (`aid-directory import https://.../hsds/`).

docs/api.md, "The HSDS API", describes it for partners.
"""
