"""Routes: logged_models (being written)."""

from wayline.server.endpoint import Api

api = Api("logged_models")
