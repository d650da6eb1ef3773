"""Routes: metrics (being written)."""

from wayline.server.endpoint import Api

api = Api("metrics")
