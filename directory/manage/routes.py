"""Routes of the volunteer, moderator and admin web app, all under /{locale}/manage/.

Each area keeps its routes in its own module; this one only puts them under the prefix.
"""

from __future__ import annotations

from fastapi import APIRouter

from directory.manage import (
    admin_routes,
    auth_routes,
    moderator_routes,
    notice_routes,
    volunteer_routes,
)

router = APIRouter(prefix="/{locale}/manage", include_in_schema=False)
router.include_router(auth_routes.router)
router.include_router(volunteer_routes.router)
router.include_router(moderator_routes.router)
router.include_router(notice_routes.router)
router.include_router(admin_routes.router)
