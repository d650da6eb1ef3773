"""Routes: proxy (being written)."""

from wayline.server.endpoint import Api

api = Api("proxy")
