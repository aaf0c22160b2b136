"""The yes/no filters are one table (`search.amenities`): the pages, the API, `SearchParams`, the
location columns and the index's facet tokens all agree with it."""

from __future__ import annotations

import dataclasses
import inspect

from directory.api import public
from directory.listings import models as m
from directory.search.amenities import AMENITY_FILTERS, FACET_FLAGS, FLAG_PARAMS
from directory.search.params import SearchParams
from directory.web.pages import TOGGLES


def test_every_flag_is_a_yes_no_field_of_search_params() -> None:
    fields = {f.name: f for f in dataclasses.fields(SearchParams)}
    for name in FLAG_PARAMS:
        assert fields[name].type == "bool" and fields[name].default is False, name
    assert len(set(FLAG_PARAMS)) == len(FLAG_PARAMS)


def test_the_pages_and_the_api_offer_exactly_these_flags() -> None:
    assert {name for name, _label in TOGGLES} == set(FLAG_PARAMS)
    api = inspect.signature(public.search_services).parameters
    offered = {name for name, p in api.items() if p.default is False}
    assert offered == set(FLAG_PARAMS)


def test_each_amenity_names_a_location_flag_and_the_index_uses_its_token() -> None:
    for a in AMENITY_FILTERS:
        assert hasattr(m.Location, a.column), a
    assert len({token for _param, token in FACET_FLAGS}) == len(FACET_FLAGS)
