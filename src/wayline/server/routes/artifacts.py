"""Routes: artifacts (being written)."""

from wayline.server.endpoint import Api

api = Api("artifacts")
