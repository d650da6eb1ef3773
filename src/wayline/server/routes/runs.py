"""Routes: runs (being written)."""

from wayline.server.endpoint import Api

api = Api("runs")
