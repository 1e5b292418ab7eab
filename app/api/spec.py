"""The OpenAPI 3 description of /api/v1 (served as JSON and rendered as the API docs page)."""
from __future__ import annotations

ERROR = {"type": "object", "required": ["message"], "properties": {
    "message": {"type": "string"},
    "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}
PAGE = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                                       "default": 50}}]
VISIT = {"type": "object", "properties": {
    "uid": {"type": "string", "format": "uuid"}, "start": {"type": "string", "format": "date"},
    "end": {"type": "string", "format": "date"}, "half": {"type": ["string", "null"], "enum": ["am", "pm", None]},
    "organisation": {"type": "string"}, "kind": {"type": "string", "enum": ["bbs", "kmu", "other"]},
    "town": {"type": "string"}, "district": {"type": "string"},
    "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]}}}
WINDOW = {"type": "object", "required": ["start", "end"], "properties": {
    "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"}}}
NEW_REQUEST = {"type": "object", "required": [
    "kind", "org_name", "street", "postcode", "town", "district", "contact_name", "email", "windows", "half_days",
    "classes_per_day", "participants", "space_length_m", "space_width_m", "surface", "power_type", "permit",
    "onsite_name", "onsite_phone", "consent"], "properties": {
    "kind": {"type": "string", "enum": ["bbs", "kmu", "other"]}, "org_name": {"type": "string"},
    "street": {"type": "string"}, "postcode": {"type": "string", "pattern": "^[0-9]{5}$"},
    "town": {"type": "string"}, "district": {"type": "string"}, "contact_name": {"type": "string"},
    "email": {"type": "string", "format": "email"}, "phone": {"type": "string"},
    "windows": {"type": "array", "items": WINDOW, "minItems": 1, "maxItems": 3},
    "half_days": {"type": "integer", "enum": [1, 2, 4, 6, 8, 10]},
    "classes_per_day": {"type": "integer", "minimum": 1, "maximum": 8},
    "participants": {"type": "integer", "minimum": 1, "maximum": 200},
    "occupations": {"type": "string"}, "message": {"type": "string"},
    "module_ids": {"type": "array", "items": {"type": "integer"}},
    "space_length_m": {"type": "number"}, "space_width_m": {"type": "number"},
    "clearance_m": {"type": ["number", "null"]},
    "surface": {"type": "string", "enum": ["paved", "unpaved", "unknown"]},
    "power_type": {"type": "string", "enum": ["cee32", "cee16", "schuko", "none"]},
    "power_distance_m": {"type": ["number", "null"]}, "wifi": {"type": "boolean"}, "toilets": {"type": "boolean"},
    "permit": {"type": "string", "enum": ["no", "yes", "unknown"]}, "onsite_name": {"type": "string"},
    "onsite_phone": {"type": "string"}, "access_notes": {"type": "string"},
    "confirm_site": {"type": "boolean", "description": "Send even though the site misses what the truck needs."},
    "consent": {"type": "boolean", "const": True}, "language": {"type": "string", "enum": ["de", "en"]}}}
REQUEST = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "organisation_id": {"type": "integer"},
    "organisation": {"type": "string"}, "town": {"type": "string"}, "district": {"type": "string"},
    "windows": {"type": "array", "items": WINDOW}, "half_days": {"type": "integer"},
    "participants": {"type": "integer"}, "classes_per_day": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"}}}
ORGANISATION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "postcode": {"type": "string"}, "town": {"type": "string"}, "district": {"type": "string"},
    "state": {"type": "string"}, "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]}}}


def _paged(schema: dict) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": schema},
                                             "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                             "total": {"type": "integer"}, "pages": {"type": "integer"}}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {"400": _json(ERROR, "Bad input"), "429": _json(ERROR, "Too many requests")}
STAFF_ERRORS = {"401": _json(ERROR, "No or unknown API token"), "403": _json(ERROR, "The token's role is too low"),
                **ERRORS}


def openapi(server: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "VISURGIS LabTour API", "version": "1.0.0",
                 "description": "The published tour of the Mobile InnovationLab (public), visit requests "
                                "(create: public, like the form), requests and organisations (staff, by API token)."},
        "servers": [{"url": server}],
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/tour": {"get": {"summary": "The published tour: horizon, figures and every visit (public fields)",
                              "operationId": "getTour", "responses": {
                                  "200": _json({"type": "object", "properties": {
                                      "version": {"type": "integer"}, "published_at": {"type": "string"},
                                      "horizon_start": {"type": "string", "format": "date"},
                                      "horizon_end": {"type": "string", "format": "date"},
                                      "km": {"type": "number"}, "visits": {"type": "array", "items": VISIT}}},
                                      "The tour; its ETag changes when a new version is published"),
                                  "304": {"description": "Not modified (If-None-Match)"},
                                  "404": _json(ERROR, "Nothing published yet"), **ERRORS}}},
            "/visits": {"get": {"summary": "Visits of the published tour, a page at a time", "operationId": "listVisits",
                                "parameters": PAGE + [
                                    {"name": "district", "in": "query", "schema": {"type": "string"}}],
                                "responses": {"200": _json(_paged(VISIT), "A page of visits"), **ERRORS}}},
            "/requests": {
                "get": {"summary": "Visit requests (staff: viewer)", "operationId": "listRequests",
                        "security": [{"token": []}],
                        "parameters": PAGE + [{"name": "status", "in": "query", "schema": {
                            "type": "string", "enum": ["requested", "approved", "planned", "confirmed", "completed",
                                                       "declined", "cancelled", "waitlisted"]}}],
                        "responses": {"200": _json(_paged(REQUEST), "A page of requests"), **STAFF_ERRORS}},
                "post": {"summary": "Request a visit (the same checks and rate limit as the form)",
                         "operationId": "createRequest",
                         "requestBody": {"required": True, "content": {"application/json": {"schema": NEW_REQUEST}}},
                         "responses": {"201": _json({"type": "object", "properties": {
                             "id": {"type": "string", "format": "uuid"},
                             "manage_url": {"type": "string", "description": "Shown once; keep it secret"}}},
                             "Received; the contact gets an e-mail"), **ERRORS}}},
            "/requests/{id}": {"get": {
                "summary": "One visit request (staff: viewer)", "operationId": "getRequest",
                "security": [{"token": []}],
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}],
                "responses": {"200": _json(REQUEST, "The request"), "404": _json(ERROR, "Unknown"),
                              **STAFF_ERRORS}}},
            "/organisations": {"get": {
                "summary": "Organisations (staff: viewer)", "operationId": "listOrganisations",
                "security": [{"token": []}], "parameters": PAGE,
                "responses": {"200": _json(_paged(ORGANISATION), "A page of organisations"), **STAFF_ERRORS}}},
        },
    }
