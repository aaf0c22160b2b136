"""`aid-directory import --format osm`: aid services found in an OpenStreetMap extract
(`.osm.pbf` through libosmium's bindings, or Overpass JSON) proposed to the moderation queue.

- `mapping`: the tag → category rules (a shipped JSON file, replaceable);
- `reader`: features (nodes; ways and multipolygons by their centroid) that match a rule;
- `convert`: a feature → an HSDS-shaped service for the importer (names, hours, amenities);
- `dedupe`: features near an existing listing with a similar name;
- `run`: the whole import (never publishes; see docs/exchange.md#openstreetmap).
"""

ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
#: `location.external_identifier_type` of every place imported from OpenStreetMap; its
#: `external_identifier` is the OSM id (`node/123`, `way/45`, `relation/6`).
ID_TYPE = "openstreetmap"
